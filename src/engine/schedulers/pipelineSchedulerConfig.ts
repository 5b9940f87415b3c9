/**
 * The scheduler-config fix-ups diffusers' StableDiffusionPipeline (and its img2img, inpaint and ONNX siblings) make
 * when built (their `__init__`): a `steps_offset` other than 1 becomes 1 and a `clip_sample` of true becomes false,
 * both read from `scheduler.config`, which holds the scheduler class's defaults under the file's values (DDIM's and
 * DDPM's default clip_sample is true, every class's default steps_offset 0). The SDXL and LCM pipelines make neither.
 *
 * The fixed config keeps diffusers' `_use_default_values` (the keys the scheduler took from its class's defaults), so
 * a sampler picked afterwards (`Other.from_config(pipe.scheduler.config)`, fromConfig.ts) inherits a fixed value only
 * where the file had the key: a steps_offset the file lacks is fixed for the model's own scheduler and is the picked
 * class's default (0) again after a switch, as in diffusers.
 */
import { SCHEDULER_CLASS_DEFAULTS, type SchedulerClassName } from './classDefaults';
import { defaultedKeys } from './fromConfig';

export interface FixedSchedulerConfig {
  readonly config: Record<string, unknown>;
  /** What changed, e.g. `steps_offset 0 → 1`; empty when nothing did. */
  readonly changes: string[];
}

/** Whether diffusers' pipeline for this model_index.json `_class_name` fixes its scheduler's config. */
export function pipelineFixesSchedulerConfig(pipelineClass: string): boolean {
  return !/XL|LatentConsistency/i.test(pipelineClass);
}

/**
 * `config` (scheduler_config.json as it is; `_class_name` the class the pipeline loads it with) as the model's
 * pipeline class leaves it, with `_use_default_values` as diffusers records it.
 */
export function pipelineSchedulerConfig(config: Record<string, unknown>, pipelineClass: string): FixedSchedulerConfig {
  const className = config._class_name;
  const known = typeof className === 'string' && Object.prototype.hasOwnProperty.call(SCHEDULER_CLASS_DEFAULTS, className);
  const recorded = known ? { ...config, _use_default_values: defaultedKeys(className as SchedulerClassName, config) } : config;
  if (!pipelineFixesSchedulerConfig(pipelineClass)) return { config: recorded, changes: [] };
  const defaults: Record<string, unknown> = known ? SCHEDULER_CLASS_DEFAULTS[className as SchedulerClassName] : {};
  const effective: Record<string, unknown> = { ...defaults, ...config };
  const fixed: Record<string, unknown> = { ...recorded };
  const changes: string[] = [];
  // getattr(scheduler.config, "steps_offset", 1) != 1
  if ('steps_offset' in effective && effective.steps_offset !== 1) {
    changes.push(`steps_offset ${JSON.stringify(effective.steps_offset)} → 1`);
    fixed.steps_offset = 1;
  }
  // getattr(scheduler.config, "clip_sample", False) is True
  if (effective.clip_sample === true) {
    changes.push('clip_sample true → false');
    fixed.clip_sample = false;
  }
  return { config: fixed, changes };
}
