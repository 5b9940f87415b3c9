/**
 * The schedulers room's front door: createScheduler over the sampler table (samplers.ts), one diffusers scheduler
 * class per file behind the Scheduler interface (types.ts).
 */
import type { Scheduler } from './types';
import type { SchedulerClassName } from './classDefaults';
import { resolveSampler } from './samplers';
import { DDIMScheduler } from './ddim';
import { DDPMScheduler } from './ddpm';
import { DEISMultistepScheduler } from './deis';
import { DPMSolverMultistepScheduler } from './dpmSolverMultistep';
import { EulerDiscreteScheduler } from './euler';
import { EulerAncestralDiscreteScheduler } from './eulerAncestral';
import { HeunDiscreteScheduler } from './heun';
import { KDPM2DiscreteScheduler } from './kdpm2';
import { KDPM2AncestralDiscreteScheduler } from './kdpm2Ancestral';
import { LCMScheduler } from './lcm';
import { LMSDiscreteScheduler } from './lms';
import { PNDMScheduler } from './pndm';
import { UniPCMultistepScheduler } from './uniPc';
import { checkConfigBounds } from '../../common/configBounds';

export type { Scheduler, StepOptions, StepResult } from './types';
export { SCHEDULER_CLASS_DEFAULTS } from './classDefaults';
export type { SchedulerClassName } from './classDefaults';
export { fromConfig, unexpectedKeys } from './fromConfig';
export { allowedSamplerNames, listSamplers, resolveSampler } from './samplers';
export type { ResolvedSampler, SamplerId, SamplerInfo, ScheduleType } from './samplers';
export { pipelineSchedulerConfig } from './pipelineSchedulerConfig';
export type { FixedSchedulerConfig } from './pipelineSchedulerConfig';

type SchedulerClass = new (config: Record<string, unknown>) => Scheduler;

const CLASSES: Record<SchedulerClassName, SchedulerClass> = {
  DDIMScheduler, DDPMScheduler, PNDMScheduler, LCMScheduler, EulerDiscreteScheduler, EulerAncestralDiscreteScheduler,
  HeunDiscreteScheduler, LMSDiscreteScheduler, DPMSolverMultistepScheduler, UniPCMultistepScheduler, DEISMultistepScheduler,
  KDPM2DiscreteScheduler, KDPM2AncestralDiscreteScheduler,
};

/** A scheduler for a sampler name over a model's scheduler_config.json (ARCHITECTURE.md). */
export function createScheduler(name: string, config: Record<string, unknown>): Scheduler {
  checkConfigBounds(config, 'scheduler_config.json');
  const resolved = resolveSampler(name, config);
  return new CLASSES[resolved.className](resolved.config);
}

export {
  DDIMScheduler, DDPMScheduler, DEISMultistepScheduler, DPMSolverMultistepScheduler, EulerAncestralDiscreteScheduler,
  EulerDiscreteScheduler, HeunDiscreteScheduler, KDPM2AncestralDiscreteScheduler, KDPM2DiscreteScheduler, LCMScheduler, LMSDiscreteScheduler, PNDMScheduler, UniPCMultistepScheduler,
};
