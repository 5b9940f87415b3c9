/**
 * Every real config set of ../shared/data/real-configs (read from there) swapped into a tiny ONNX model folder: its
 * scheduler/scheduler_config.json and model_index.json, byte for byte, over the tiny SD 1.x model's (the tiny SDXL
 * one's for SDXL-layout sets). Stable Diffusion schedulers generate, with the model's own scheduler as diffusers loads it;
 * flow-matching, EDM, video, other architectures and the malformed file are refused in one line that says why.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Engine } from '../../src/engine/engine';
import type { GenerateRequest } from '../../src/protocol/engineMessages';
import { buildTinyModel } from '../fixtures/tinyModel';

const CORPUS = path.resolve(__dirname, '../../../shared/data/real-configs');

/** Refused sets: what the one-line message must say. */
const REFUSED: Record<string, RegExp> = {
  '05-sd15-runwayml-pr197-invalid-json': /scheduler_config\.json is not valid JSON: Expecting property name enclosed in double quotes: line 3 column 33 \(char 68\)/,
  '17-sdxl-refiner': /Stable Diffusion XL refiner/,
  '20-playground-v2.5-edm': /EDMDPMSolverMultistepScheduler is an EDM scheduler/,
  '28-hotshot-xl': /HotshotXLPipeline.*video/,
  '35-ootd-handfit-dpmpp-karras': /HandFitPipeline.*custom pipeline/,
  '36-kolors': /ChatGLMModel.*not a CLIP text encoder/,
  '37-hunyuandit': /HunyuanDiTPipeline.*transformer/,
  '38-sd3-medium': /StableDiffusion3Pipeline/,
  '39-flux1-dev': /FluxPipeline/,
  '40-cogvideox-2b': /CogVideoXPipeline/,
};

/** What the engine says about a set that runs (a warning line must match each). */
const NOTES: Record<string, RegExp[]> = {
  '06-sd15-runwayml-flax': [],
  '26-waifu-diffusion-v1-2-ddim-v0.2.4': [/"timestep_values" is no scheduler setting and ignored/],
  '28-hotshot-xl': [],
  '29-oscavatar-sched-mismatch': [/model_index\.json names PNDMScheduler for the scheduler and .* says DDIMScheduler: running PNDMScheduler/],
};

let root: string;
let sd: string;
let xl: string;
const engine = new Engine();

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'real-configs-'));
  sd = buildTinyModel(path.join(root, 'tiny-sd'), { seed: 5 });
  xl = buildTinyModel(path.join(root, 'tiny-xl'), { seed: 5, xl: true });
  fs.copyFileSync(path.join(sd, 'model_index.json'), path.join(root, 'sd-index.json'));
  fs.copyFileSync(path.join(xl, 'model_index.json'), path.join(root, 'xl-index.json'));
});

after(async () => {
  await engine.release();
  fs.rmSync(root, { recursive: true, force: true });
});

/**
 * The set's scheduler config and model_index.json written over those of the tiny SD or SDXL model (one folder each, so
 * the engine keeps its sessions loaded; it reads the folder's JSON again on every call). A set without model_index.json
 * keeps the tiny model's.
 */
function swapInto(set: string): string {
  const src = path.join(CORPUS, set);
  const index = path.join(src, 'model_index.json');
  const isXl = fs.existsSync(index) && /text_encoder_2|XL/.test(fs.readFileSync(index, 'utf8'));
  const dir = isXl ? xl : sd;
  const schedulerDir = ['scheduler', 'rege_weights/scheduler'].map((s) => path.join(src, s)).find((s) => fs.existsSync(s))!;
  fs.copyFileSync(path.join(schedulerDir, 'scheduler_config.json'), path.join(dir, 'scheduler', 'scheduler_config.json'));
  fs.copyFileSync(fs.existsSync(index) ? index : path.join(root, isXl ? 'xl-index.json' : 'sd-index.json'), path.join(dir, 'model_index.json'));
  return dir;
}

function request(modelDir: string): GenerateRequest {
  return {
    modelDir, prompt: 'a red circle', negativePrompt: '', sampler: null, steps: 3, cfgScale: 7.5, seed: 1, width: 64,
    height: 64, batchSize: 1, initImage: null, strength: 0.75, previews: false, rng: 'cpu', executionProvider: 'cpu', threads: 1,
  };
}

describe('real config sets in a model folder', () => {
  const sets = fs.readdirSync(CORPUS).filter((d) => fs.statSync(path.join(CORPUS, d)).isDirectory()).sort();
  test('the corpus has its 40 sets', () => assert.equal(sets.length, 40));
  for (const set of sets) {
    const refused = REFUSED[set];
    test(`${set}: ${refused ? 'refused in one line' : 'generates with its own scheduler'}`, async () => {
      const dir = swapInto(set);
      if (refused) {
        await assert.rejects(engine.generate(request(dir)), (e: Error) => {
          assert.match(e.message, refused);
          assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
          return true;
        });
        return;
      }
      const out = await engine.generate(request(dir));
      assert.equal(out.images.length, 1);
      for (const note of NOTES[set] ?? []) assert.ok(out.warnings.some((w) => note.test(w)), `${note} in ${JSON.stringify(out.warnings)}`);
    });
  }
});

test('a scheduler class the engine does not implement runs the family default, saying so', async () => {
  const dir = swapInto('01-sd15-runwayml');
  const file = path.join(dir, 'scheduler', 'scheduler_config.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(file, JSON.stringify({ ...config, _class_name: 'DPMSolverSinglestepScheduler' }));
  fs.writeFileSync(path.join(dir, 'model_index.json'), JSON.stringify({ _class_name: 'StableDiffusionPipeline', scheduler: ['diffusers', 'DPMSolverSinglestepScheduler'] }));
  const out = await engine.generate(request(dir));
  assert.equal(out.images.length, 1);
  assert.ok(out.warnings.some((w) => /names DPMSolverSinglestepScheduler, which this engine does not implement: using Euler a, this model family's default/.test(w)), JSON.stringify(out.warnings));
  assert.equal(out.sampler, 'Euler a');
});
