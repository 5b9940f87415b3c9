import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { outputFolderProblem, saveImageInto } from '../../src/generation/imageFiles';
import { encodePng } from '../../src/engine/image/png';

// Issue 12 row 8: an output folder that is a symlink out of the workspace, a dangling symlink named like the next
// file, and outputFolder "../../x" in an untrusted workspace.
const png = encodePng(Uint8Array.of(1, 2, 3), 1, 1, {});

function workspace(t: { after: (fn: () => void) => void }): { tmp: string; ws: string; outside: string } {
  const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'out-folder-')));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const ws = path.join(tmp, 'ws');
  const outside = path.join(tmp, 'outside');
  fs.mkdirSync(ws);
  fs.mkdirSync(outside);
  return { tmp, ws, outside };
}

test('a dangling symlink named like the next file counts as taken: the image gets the next name, the link target is not created', (t) => {
  const { ws, outside } = workspace(t);
  const dir = path.join(ws, 'images');
  fs.mkdirSync(dir);
  const victim = path.join(outside, 'victim.png');
  fs.symlinkSync(victim, path.join(dir, 'a-fox-7.png'));
  const saved = saveImageInto(dir, 'a fox', 7, png);
  assert.equal(path.basename(saved), 'a-fox-7-1.png');
  assert.equal(fs.existsSync(victim), false);
});

test('untrusted workspace: an output folder whose real path leaves the workspace is refused, nothing written', (t) => {
  const { ws, outside } = workspace(t);
  fs.symlinkSync(outside, path.join(ws, 'images'));
  assert.throws(() => saveImageInto(path.join(ws, 'images'), 'a fox', 7, png, { confineTo: ws }),
    (e: Error) => /leads outside the workspace/.test(e.message) && e.message.includes(outside) && /untrusted/.test(e.message));
  assert.deepEqual(fs.readdirSync(outside), []);
  // a folder below the link is refused too, and not created
  assert.throws(() => saveImageInto(path.join(ws, 'images', 'deeper'), 'a fox', 7, png, { confineTo: ws }), /leads outside the workspace/);
  assert.deepEqual(fs.readdirSync(outside), []);
});

test('untrusted workspace: "../x" and absolute paths outside are refused before any folder is made; inside paths pass', (t) => {
  const { ws, tmp } = workspace(t);
  assert.match(outputFolderProblem(path.join(ws, '..', '..', 'x'), ws) ?? '', /leads outside the workspace/);
  assert.match(outputFolderProblem(path.join(tmp, 'elsewhere'), ws) ?? '', /leads outside the workspace/);
  assert.throws(() => saveImageInto(path.join(ws, '..', 'made'), 'a fox', 7, png, { confineTo: ws }), /leads outside the workspace/);
  assert.equal(fs.existsSync(path.join(tmp, 'made')), false);
  assert.equal(outputFolderProblem(path.join(ws, 'images', 'sub'), ws), undefined);
  const inner = path.join(ws, 'real');
  fs.mkdirSync(inner);
  fs.symlinkSync(inner, path.join(ws, 'linked'));
  assert.equal(path.dirname(saveImageInto(path.join(ws, 'linked'), 'a fox', 7, png, { confineTo: ws })), path.join(ws, 'linked'));
});

test('trusted workspace (no confinement): absolute and .. output folders are used as the user set them', (t) => {
  const { ws, outside } = workspace(t);
  const saved = saveImageInto(path.join(ws, '..', 'outside'), 'a fox', 7, png);
  assert.equal(fs.realpathSync(path.dirname(saved)), outside);
});
