/**
 * Pieces of code that once existed in several copies now exist once: each is looked for in src/ by its shape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const SRC = path.resolve(__dirname, '../../src');

function sources(dir = SRC): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

test('isRecord, the PNG signature, the PNG head reader, the infotext summary and the page template are each defined once', () => {
  const files = sources().map((f) => [path.relative(SRC, f).split(path.sep).join('/'), fs.readFileSync(f, 'utf8')] as const);
  const where = (re: RegExp): string[] => files.filter(([, text]) => re.test(text)).map(([f]) => f);
  assert.deepEqual(where(/function isRecord\(/), ['common/isRecord.ts']);
  assert.deepEqual(where(/\b(137, 80, 78, 71|0x89, 0x50, 0x4e, 0x47)\b/), ['engine/image/png.ts']);
  assert.deepEqual(where(/export (async )?function readPngHead\w*\(/), ['markdown/pngHead.ts']);
  assert.deepEqual(where(/<main id="app"/), ['panel/panelHtml.ts']);
  // an image's parameters summed up on the host (the engine names its own samplers)
  assert.deepEqual(where(/\(\$\{[\w.]*(\['Schedule type'\]|schedule)/).filter((f) => !f.startsWith('engine/')), ['common/infotextSummary.ts']);
  assert.deepEqual(where(/paramsFromPng(Text)?\(/).filter((f) => f.startsWith('commands/')), ['commands/paramsFromImageFile.ts']);
});
