/**
 * The scheduler-config fix-ups diffusers' StableDiffusionPipeline and OnnxStableDiffusionPipeline make when they are
 * built (their `__init__`): a `steps_offset` other than 1 becomes 1 and a `clip_sample` of true becomes false, both
 * read from `scheduler.config`, which holds the scheduler class's defaults under the file's values (DDIM's and DDPM's
 * default clip_sample is true, every class's default steps_offset 0). A sampler picked afterwards
 * (`Other.from_config(pipe.scheduler.config)`) inherits the fixed values. LatentConsistencyModelPipeline makes neither.
 */
import { SCHEDULER_CLASS_DEFAULTS } from './classDefaults';

export interface FixedSchedulerConfig {
  readonly config: Record<string, unknown>;
  /** What changed, e.g. `steps_offset 0 → 1`; empty when nothing did. */
  readonly changes: string[];
}

/** `config` (scheduler_config.json as it is) as the model's pipeline class leaves it. */
export function pipelineSchedulerConfig(config: Record<string, unknown>, pipelineClass: string): FixedSchedulerConfig {
  if (/LatentConsistency/i.test(pipelineClass)) return { config, changes: [] };
  const className = config._class_name;
  const defaults: Record<string, unknown> = typeof className === 'string' && Object.prototype.hasOwnProperty.call(SCHEDULER_CLASS_DEFAULTS, className)
    ? SCHEDULER_CLASS_DEFAULTS[className as keyof typeof SCHEDULER_CLASS_DEFAULTS]
    : {};
  const effective: Record<string, unknown> = { ...defaults, ...config };
  const fixed: Record<string, unknown> = { ...config };
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
  return { config: changes.length === 0 ? config : fixed, changes };
}
