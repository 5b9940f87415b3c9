/**
 * Every real config set of ../shared/data/real-configs (read from there) × every sampler of the table, against
 * diffusers' own answers (test/fixtures/schedulers/realConfigs.json, record_real_configs.py): the class that runs,
 * its config key by key (from_config's rule, the pipeline's fix-ups), and timesteps, σs and init_noise_sigma at 20 and
 * 25 steps (1 and 4 too for LCM, Turbo and the lcm sampler).
 *
 * The recording is torch 2.13's: its linspace rounds some √β one ulp away from torch 1.13's, which numpyTorch.ts
 * follows (the other fixtures' torch), so σs agree to 1e-5 and fractional timesteps to 1e-3 (an ulp of σ moves a σ→t
 * timestep by up to 1.3e-4), not bit for bit.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { modelSchedulerSetup } from '../../../src/engine/model';
import { parsePythonJson } from '../../../src/common/pythonJson';
import { createScheduler, listSamplers, resolveSampler, type SamplerId } from '../../../src/engine/schedulers';
import { SCHEDULER_CLASS_DEFAULTS } from '../../../src/engine/schedulers/classDefaults';
import { fromConfig } from '../../../src/engine/schedulers/fromConfig';

const CORPUS = path.resolve(__dirname, '../../../../shared/data/real-configs');

interface SamplerAnswer { class: string; config?: Record<string, unknown>; steps: Record<string, number | { error: string }> }
interface SetRecord {
  set: string; class?: string; pipeline?: string | null; own_config?: Record<string, unknown>;
  samplers?: Record<string, SamplerAnswer | { error: string }>;
}
const recorded = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../fixtures/schedulers/realConfigs.json'), 'utf8')) as {
  samplers: Record<string, { class: string; overrides: Record<string, unknown> }>;
  class_defaults: Record<string, Record<string, unknown>>;
  sets: SetRecord[];
  answers: Array<[number[], number[] | null, number]>;
};

/** JSON has no ±inf: the recorder wrote Python's repr. */
const py = (v: unknown): unknown => (v === '-inf' ? -Infinity : v === 'inf' ? Infinity : Array.isArray(v) ? v.map(py) : v);

function readJson(file: string): Record<string, unknown> | undefined {
  return fs.existsSync(file) ? parsePythonJson(fs.readFileSync(file, 'utf8')) as Record<string, unknown> : undefined;
}

/** The scheduler folder of a set and its model_index.json (set 34 keeps its components under rege_weights/). */
function setFiles(name: string): { schedulerFile: string; modelIndex: Record<string, unknown> | undefined } {
  const dir = path.join(CORPUS, name);
  const sub = ['scheduler', 'rege_weights/scheduler'].find((s) => fs.existsSync(path.join(dir, s, 'scheduler_config.json')))!;
  return { schedulerFile: path.join(dir, sub, 'scheduler_config.json'), modelIndex: readJson(path.join(dir, 'model_index.json')) };
}

/**
 * Values diffusers' __init__ re-registers (register_to_config) for names of sibling solvers; our readers map them the
 * same way when they read the config.
 */
const REREGISTERED: Record<string, Record<string, Record<string, string>>> = {
  DPMSolverMultistepScheduler: { solver_type: { logrho: 'midpoint', bh1: 'midpoint', bh2: 'midpoint' }, algorithm_type: { deis: 'dpmsolver++' } },
  UniPCMultistepScheduler: { solver_type: { midpoint: 'bh2', heun: 'bh2', logrho: 'bh2' } },
  DEISMultistepScheduler: { solver_type: { midpoint: 'logrho', heun: 'logrho', bh1: 'logrho', bh2: 'logrho' }, algorithm_type: { dpmsolver: 'deis', 'dpmsolver++': 'deis' } },
};

/** Our value of `key` as diffusers' instance holds it. */
function asDiffusers(className: string, key: string, value: unknown): unknown {
  return typeof value === 'string' ? REREGISTERED[className]?.[key]?.[value] ?? value : value;
}

function close(actual: ArrayLike<number>, expected: readonly number[]): boolean {
  return actual.length === expected.length
    && Array.from(actual).every((x, i) => Math.abs(x - expected[i]) <= 1e-5 * Math.max(Math.abs(expected[i]), 1e-3));
}

test("each class's defaults are diffusers' __init__ defaults, key for key", () => {
  for (const [className, defaults] of Object.entries(SCHEDULER_CLASS_DEFAULTS)) {
    const theirs = recorded.class_defaults[className];
    assert.ok(theirs, `${className} recorded`);
    assert.deepEqual(defaults, Object.fromEntries(Object.entries(theirs).map(([k, v]) => [k, py(v)])), className);
  }
});

test('the sampler table is the recorded one: the same classes and from_config overrides', () => {
  const ours = Object.fromEntries(listSamplers().map((s) => {
    const config = resolveSampler(s.id, { _class_name: s.className });
    const overrides = Object.keys(recorded.samplers[s.id]?.overrides ?? {});
    return [s.id, { class: s.className, overrides: Object.fromEntries(overrides.map((k) => [k, config.config[k]])) }];
  }));
  assert.deepEqual(ours, recorded.samplers);
});

describe('real config sets × samplers against diffusers', () => {
  let combinations = 0;
  for (const s of recorded.sets) {
    // 37 (HunyuanDiT) is a transformer model the folder check refuses; the others without samplers are refused below
    if (s.samplers === undefined || s.set.startsWith('37-')) continue;
    test(`${s.set} (${s.class})`, () => {
      const { schedulerFile, modelIndex } = setFiles(s.set);
      const setup = modelSchedulerSetup(readJson(schedulerFile)!, modelIndex, s.pipeline ?? 'OnnxStableDiffusionPipeline', () => 'euler_a', schedulerFile);
      assert.equal(setup.ownSampler, null, 'the own class is implemented');
      for (const [sampler, answer] of Object.entries(s.samplers!)) {
        const name = sampler === 'own' ? null : sampler as SamplerId;
        if ('error' in answer) {
          assert.throws(() => resolveSampler(name, setup.config), `${sampler}: diffusers fails (${answer.error})`);
          continue;
        }
        const resolved = resolveSampler(name, setup.config);
        assert.equal(resolved.className, answer.class, `${sampler}: class`);
        // the config, key by key: diffusers' non-default values over the class's defaults
        const expected = { ...recorded.class_defaults[answer.class], ...(sampler === 'own' ? s.own_config : answer.config) };
        for (const [key, value] of Object.entries(expected)) {
          // a null the file gives for a key whose default is not null (DPM-Solver's variance_type: null, handed to
          // DDPM) reaches diffusers' class as None, which it treats as its default; ours reads the default
          const theirs: unknown = value === null ? recorded.class_defaults[answer.class][key] : py(value);
          assert.deepEqual(asDiffusers(answer.class, key, resolved.config[key]), theirs, `${sampler}: ${key}`);
        }
        for (const [steps, index] of Object.entries(answer.steps)) {
          const scheduler = createScheduler(resolved.className, resolved.config) as ReturnType<typeof createScheduler> & { sigmas?: Float32Array };
          if (typeof index !== 'number') {
            assert.throws(() => scheduler.setTimesteps(Number(steps)), `${sampler} ${steps}: diffusers fails (${index.error})`);
            continue;
          }
          scheduler.setTimesteps(Number(steps));
          const [timesteps, sigmas, initNoiseSigma] = recorded.answers[index];
          const at = `${sampler} at ${steps} steps`;
          assert.ok(scheduler.timesteps.length === timesteps.length && scheduler.timesteps.every((t, i) => Math.abs(t - timesteps[i]) < 1e-3), `${at}: timesteps ${scheduler.timesteps.slice(0, 4)} … vs ${timesteps.slice(0, 4)} …`);
          if (sigmas !== null) assert.ok(close(scheduler.sigmas ?? [], sigmas), `${at}: sigmas`);
          assert.ok(close([scheduler.initNoiseSigma], [initNoiseSigma]), `${at}: init_noise_sigma ${scheduler.initNoiseSigma} vs ${initNoiseSigma}`);
          combinations++;
        }
      }
    });
  }
  test('every recorded answer was compared (1432 set × sampler × step-count answers)', () => {
    const recordedAnswers = recorded.sets.filter((s) => s.samplers !== undefined && !s.set.startsWith('37-'))
      .flatMap((s) => Object.values(s.samplers!)).flatMap((a) => ('steps' in a ? Object.values(a.steps) : []))
      .filter((i) => typeof i === 'number').length;
    assert.equal(combinations, recordedAnswers);
    assert.equal(combinations, 1432);
  });
});

test('fromConfig with no _use_default_values takes the file as given and the class defaults for the rest', () => {
  const c = fromConfig('EulerDiscreteScheduler', { beta_schedule: 'scaled_linear', skip_prk_steps: true, timestep_values: null });
  assert.deepEqual([c.beta_schedule, c.timestep_spacing, 'skip_prk_steps' in c, 'timestep_values' in c], ['scaled_linear', 'linspace', false, false]);
  assert.equal(fromConfig('DPMSolverMultistepScheduler', { lambda_min_clipped: -Infinity }).lambda_min_clipped, -Infinity);
  assert.equal(createScheduler('DPMSolverMultistepScheduler', { lambda_min_clipped: -Infinity }).initNoiseSigma, 1);
});
