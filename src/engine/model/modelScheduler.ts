/**
 * The scheduler a model folder runs, as diffusers' pipeline loading makes it: the class model_index.json names for
 * "scheduler" (scheduler_config.json's `_class_name` where there is none; a Flax class is its torch twin), built
 * from scheduler_config.json, then fixed by the pipeline (pipelineSchedulerConfig.ts). Schedulers that are not DDPM
 * family (flow matching, EDM, video) are refused in one line; a DDPM-family class the engine does not implement runs
 * the family's default sampler instead, saying so.
 */
import { ModelError } from './modelError';
import { listSamplers, pipelineSchedulerConfig, SCHEDULER_CLASS_DEFAULTS, unexpectedKeys, type SamplerId } from '../schedulers';

export interface ModelSchedulerSetup {
  /** scheduler_config.json as the pipeline leaves it; `_class_name` is the class diffusers loads it as. */
  readonly config: Record<string, unknown>;
  /** The sampler that runs when a request names none: null = the model's own class; else its replacement. */
  readonly ownSampler: SamplerId | null;
  /** One line each, for the user: what runs other than the files say, and why. */
  readonly notes: string[];
  /** The pipeline's fix-ups (`steps_offset 0 → 1`, …), for the log: diffusers makes them silently. */
  readonly fixups: string[];
  /** The scheduler_config.json object this was made from (a ModelInfo whose schedulerConfig was replaced is redone). */
  readonly from: Record<string, unknown>;
}

/** Scheduler classes no Stable Diffusion UNet pipeline runs, by prefix, and what they are. */
const FOREIGN_SCHEDULERS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^(Flax)?FlowMatch/, 'a flow-matching scheduler (rectified-flow transformers such as SD3 and FLUX)'],
  [/^(Flax)?EDM/, "an EDM scheduler (Karras σ-space models such as Playground v2.5, whose UNet takes EDM's preconditioning)"],
  [/^(Flax)?(CogVideoX|Video)/, 'a video scheduler'],
  [/^(Flax)?(ScoreSdeVe|Karras(Ve)?Scheduler|Consistency|TCD|SASolver|Amused|IPNDM|Repaint|Unclip)/, 'a scheduler of another kind of model'],
];

function isImplemented(className: string): className is keyof typeof SCHEDULER_CLASS_DEFAULTS {
  return Object.prototype.hasOwnProperty.call(SCHEDULER_CLASS_DEFAULTS, className);
}

/**
 * The model's scheduler setup from scheduler_config.json (`file` names it in messages), model_index.json (when the
 * folder has one), the pipeline class and the family's default sampler. Throws a one-line ModelError for schedulers
 * of other kinds of model.
 */
export function modelSchedulerSetup(
  schedulerConfig: Record<string, unknown>, modelIndex: Record<string, unknown> | undefined, pipelineClass: string,
  familyDefault: () => SamplerId, file: string,
): ModelSchedulerSetup {
  const notes: string[] = [];
  const entry = modelIndex?.scheduler;
  const indexClass = Array.isArray(entry) && typeof entry[1] === 'string' ? entry[1] : null;
  const fileClass = typeof schedulerConfig._class_name === 'string' ? schedulerConfig._class_name : null;
  const named = indexClass ?? fileClass;
  for (const [pattern, what] of FOREIGN_SCHEDULERS) {
    if (named !== null && pattern.test(named)) {
      throw new ModelError('unsupported', file, `${file}: ${named} is ${what}, not a Stable Diffusion scheduler: only SD 1.x / 2.x / XL UNet models run here`);
    }
  }
  if (indexClass !== null && fileClass !== null && indexClass !== fileClass) {
    notes.push(`model_index.json names ${indexClass} for the scheduler and ${file} says ${fileClass}: `
      + `running ${indexClass} with that file's settings, as diffusers loads it`);
  }
  let className = named;
  if (className !== null && className.startsWith('Flax') && isImplemented(className.slice(4))) className = className.slice(4);
  let ownSampler: SamplerId | null = null;
  if (className === null || !isImplemented(className)) {
    ownSampler = familyDefault();
    const instead = listSamplers().find((s) => s.id === ownSampler);
    const label = instead ? `${instead.a1111Name}${instead.scheduleType ? ` ${instead.scheduleType}` : ''}` : ownSampler;
    notes.push(className === null
      ? `${file} names no scheduler class: using ${label}, this model family's default`
      : `${file} names ${className}, which this engine does not implement: using ${label}, this model family's default`);
  }
  const ignored = unexpectedKeys(schedulerConfig);
  if (ignored.length > 0) {
    notes.push(`${file}: ${ignored.map((k) => JSON.stringify(k)).join(', ')} ${ignored.length === 1 ? 'is' : 'are'} `
      + 'no scheduler setting and ignored, as diffusers ignores them');
  }
  const fixed = pipelineSchedulerConfig({ ...schedulerConfig, ...(className === null ? {} : { _class_name: className }) }, pipelineClass);
  return { config: fixed.config, ownSampler, notes, fixups: fixed.changes, from: schedulerConfig };
}
