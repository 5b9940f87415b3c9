/**
 * The hover's image commands (Variations, Open in Panel) and Reuse Parameters against the stub `vscode` and a fake
 * generationHost: one helper reads the PNG's head only, however big the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createVscodeStub, installVscodeStub } from '../fixtures/vscodeStub';
import { encodePng } from '../../src/engine/image';
import type { GenerationHost } from '../../src/generation/generationHost';
import type { PanelParams } from '../../src/protocol/webviewMessages';

const stub = createVscodeStub({});
installVscodeStub(stub.vscode);
/* eslint-disable @typescript-eslint/no-require-imports */
const { ImageVariationsCommand, OpenImageInPanelCommand } = require('../../src/commands/imageVariations') as typeof import('../../src/commands/imageVariations');
const { ReuseParametersCommand } = require('../../src/commands/reuseParameters') as typeof import('../../src/commands/reuseParameters');
/* eslint-enable @typescript-eslint/no-require-imports */

import { variationsOf, VARIATION_DEFAULTS } from '../../src/generation/seedsAndSize';
const BASE: PanelParams = { prompt: '', negativePrompt: '', sampler: 'euler_a', steps: 2, cfgScale: 7, seed: 1, randomSeed: false, width: 64, height: 64, batchCount: 1, model: 'm' };

test('Variations, Open in Panel and Reuse Parameters read only the PNG\'s head: a 3 GB file is no problem', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-commands-'));
  const file = path.join(dir, 'big.png');
  fs.writeFileSync(file, encodePng(new Uint8Array(8 * 8 * 3), 8, 8, { parameters: 'a red fox\nSteps: 12, Sampler: Euler a, CFG scale: 6, Seed: 5, Size: 64x64, Model: m' }));
  fs.truncateSync(file, 3 * 1024 ** 3); // sparse: image data that goes on and on
  const loaded: Array<[PanelParams, string]> = [];
  const panels = { show: () => ({ loadParams: (p: PanelParams, note: string) => { loaded.push([p, note]); } }) };
  const enqueued: Array<[PanelParams, number]> = [];
  const generationHost = {
    panelSetup: async () => ({ defaults: BASE, limits: { batchCountMax: 8 } }),
    models: () => [{ id: 'm', label: 'M', dir: path.join(dir, 'm') }],
    enqueueVariations: async (params: PanelParams, seed: number) => {
      const made = variationsOf(params, seed, VARIATION_DEFAULTS);
      if (made.ok) enqueued.push([made.params, seed]);
      return made.ok ? { ok: true, job: {}, params: made.params } : made;
    },
  } as unknown as GenerationHost;
  const reuse = new ReuseParametersCommand(generationHost, panels as never);
  stub.vscode.commands.registerCommand(reuse.id, (...a: unknown[]) => reuse.execute(...a));
  await new ImageVariationsCommand(generationHost, panels as never).execute({ file });
  await new OpenImageInPanelCommand().execute({ file });
  assert.deepEqual(stub.messages, []);
  assert.deepEqual(loaded.map(([p, note]) => [p.prompt, p.steps, p.batchCount, p.randomSeed, note]), [
    ['a red fox', 12, 4, false, 'Variations of big.png: Making 4 variations of seed 5: new variation seeds at strength 0.2 '
      + '(settings: Inline Diffusion › Variation Count / Variation Strength).'],
    ['a red fox', 12, 1, false, 'Loaded from big.png.'],
  ]);
  // Variations are queued at once: the image's seed, random variation seeds at the configured strength
  assert.deepEqual(enqueued.map(([p, seed]) => [seed, p.seed, p.randomSeed, p.randomVariationSeed, p.variationStrength, p.batchCount]),
    [[5, 5, false, true, 0.2, 4]]);
  fs.writeFileSync(file, 'not a png');
  await reuse.execute(stub.vscode.Uri.file(file));
  assert.deepEqual(stub.messages, [['error', 'Inline Diffusion: cannot reuse big.png: it is not a readable PNG (not a PNG (no PNG signature)).']]);
  fs.rmSync(dir, { recursive: true, force: true });
});
