/**
 * The sampler table: sampler names → scheduler class and config (ARCHITECTURE.md's table).
 *
 * A name is a short id (`euler_a`, `dpmpp_2m_karras`), an AUTOMATIC1111 display name (`Euler a`, `DPM++ 2M Karras`)
 * or a diffusers class name (`PNDMScheduler`). The model's scheduler_config.json supplies the beta schedule and the
 * rest, as diffusers' `Picked.from_config(pipe.scheduler.config, **overrides)` hands it over (fromConfig.ts): the
 * picked class takes the keys the config has, its own defaults for the rest (never those of the model's class), then
 * the sampler's overrides. A class name given directly is that from_config without overrides. Data only: the host
 * reads this file (the fence allows it) without the scheduler classes.
 */
import { SCHEDULER_CLASS_DEFAULTS, type SchedulerClassName } from './classDefaults';
import { fromConfig } from './fromConfig';

export type SamplerId =
  | 'euler' | 'euler_a' | 'heun' | 'lms' | 'dpmpp_2m' | 'dpmpp_2m_karras' | 'dpmpp_2m_sde' | 'dpmpp_2m_sde_karras'
  | 'ddim' | 'plms' | 'ddpm' | 'lcm' | 'unipc' | 'deis' | 'dpm2' | 'dpm2_karras' | 'dpm2_a' | 'dpm2_a_karras';

export interface SamplerInfo {
  readonly id: SamplerId;
  /** The name A1111 writes as "Sampler: …" in the PNG infotext. */
  readonly a1111Name: string;
  readonly className: SchedulerClassName;
  /**
   * A1111's "Schedule type: …" where its automatic one differs: A1111 ≥ 1.9 runs "DPM++ 2M" with Karras sigmas unless
   * told "Uniform", so plain DPM++ 2M says so to be re-run as made.
   */
  readonly scheduleType?: ScheduleType;
}

export type ScheduleType = 'Karras' | 'Uniform';

/** σ schedules other than the default are named by the sampler id: off unless the id asks for them. */
const PLAIN_SIGMAS = { use_karras_sigmas: false, use_exponential_sigmas: false, use_beta_sigmas: false } as const;
const DPMPP_2M = { ...PLAIN_SIGMAS, algorithm_type: 'dpmsolver++', solver_order: 2 } as const;
/** diffusers' "DPM++ 2M SDE": its noise comes from the seed's generator, where A1111 draws it from a Brownian tree. */
const DPMPP_2M_SDE = { ...PLAIN_SIGMAS, algorithm_type: 'sde-dpmsolver++', solver_order: 2 } as const;

const SAMPLERS: ReadonlyArray<SamplerInfo & { readonly overrides: Readonly<Record<string, unknown>> }> = [
  { id: 'euler', a1111Name: 'Euler', className: 'EulerDiscreteScheduler', overrides: PLAIN_SIGMAS },
  { id: 'euler_a', a1111Name: 'Euler a', className: 'EulerAncestralDiscreteScheduler', overrides: {} },
  { id: 'heun', a1111Name: 'Heun', className: 'HeunDiscreteScheduler', overrides: PLAIN_SIGMAS },
  { id: 'lms', a1111Name: 'LMS', className: 'LMSDiscreteScheduler', overrides: PLAIN_SIGMAS },
  { id: 'dpmpp_2m', a1111Name: 'DPM++ 2M', scheduleType: 'Uniform', className: 'DPMSolverMultistepScheduler', overrides: DPMPP_2M },
  {
    id: 'dpmpp_2m_karras', a1111Name: 'DPM++ 2M', scheduleType: 'Karras', className: 'DPMSolverMultistepScheduler',
    overrides: { ...DPMPP_2M, use_karras_sigmas: true },
  },
  { id: 'dpmpp_2m_sde', a1111Name: 'DPM++ 2M SDE', scheduleType: 'Uniform', className: 'DPMSolverMultistepScheduler', overrides: DPMPP_2M_SDE },
  {
    id: 'dpmpp_2m_sde_karras', a1111Name: 'DPM++ 2M SDE', scheduleType: 'Karras', className: 'DPMSolverMultistepScheduler',
    overrides: { ...DPMPP_2M_SDE, use_karras_sigmas: true },
  },
  { id: 'ddim', a1111Name: 'DDIM', className: 'DDIMScheduler', overrides: {} },
  { id: 'plms', a1111Name: 'PLMS', className: 'PNDMScheduler', overrides: { skip_prk_steps: true } },
  { id: 'ddpm', a1111Name: 'DDPM', className: 'DDPMScheduler', overrides: {} },
  { id: 'lcm', a1111Name: 'LCM', className: 'LCMScheduler', overrides: {} },
  { id: 'unipc', a1111Name: 'UniPC', className: 'UniPCMultistepScheduler', overrides: PLAIN_SIGMAS },
  {
    id: 'deis', a1111Name: 'DEIS', className: 'DEISMultistepScheduler',
    overrides: { ...PLAIN_SIGMAS, algorithm_type: 'deis', solver_order: 2 },
  },
  // diffusers' DPM2, which keeps every σ (A1111's "DPM2" drops the next-to-last one)
  { id: 'dpm2', a1111Name: 'DPM2', scheduleType: 'Uniform', className: 'KDPM2DiscreteScheduler', overrides: PLAIN_SIGMAS },
  {
    id: 'dpm2_karras', a1111Name: 'DPM2', scheduleType: 'Karras', className: 'KDPM2DiscreteScheduler',
    overrides: { ...PLAIN_SIGMAS, use_karras_sigmas: true },
  },
  { id: 'dpm2_a', a1111Name: 'DPM2 a', scheduleType: 'Uniform', className: 'KDPM2AncestralDiscreteScheduler', overrides: PLAIN_SIGMAS },
  {
    id: 'dpm2_a_karras', a1111Name: 'DPM2 a', scheduleType: 'Karras', className: 'KDPM2AncestralDiscreteScheduler',
    overrides: { ...PLAIN_SIGMAS, use_karras_sigmas: true },
  },
];

/** Every sampler by short id, with its A1111 name and diffusers class (for the UI, the CLI and the infotext). */
export function listSamplers(): SamplerInfo[] {
  return SAMPLERS.map(({ id, a1111Name, className, scheduleType }) => (scheduleType ? { id, a1111Name, className, scheduleType } : { id, a1111Name, className }));
}

export interface ResolvedSampler {
  /** The short id, or the class name when the config matches no short id's settings. */
  readonly id: SamplerId | SchedulerClassName;
  readonly className: SchedulerClassName;
  /** The snake_case config the scheduler is built from. */
  readonly config: Record<string, unknown>;
  /** For the infotext: "Sampler: …" and, where not automatic, "Schedule type: …". */
  readonly a1111Name: string;
  readonly scheduleType?: ScheduleType;
}

/** The diffusers class names, in the order error messages list them. */
const CLASS_NAMES = Object.keys(SCHEDULER_CLASS_DEFAULTS) as SchedulerClassName[];


/** "DPM++ 2M Karras": an A1111 name with its schedule type, as A1111 < 1.9 and our panel spell it. */
function fullA1111Name(s: SamplerInfo): string {
  return s.scheduleType ? `${s.a1111Name} ${s.scheduleType}` : s.a1111Name;
}

/**
 * The short id, A1111 name or class name `name` denotes, case-insensitively. A bare A1111 name ("DPM++ 2M") is the
 * first sampler of that name, as ARCHITECTURE.md's table maps it.
 */
function lookUp(name: string): { sampler?: (typeof SAMPLERS)[number]; className?: SchedulerClassName } {
  const key = name.trim().toLowerCase();
  const sampler = SAMPLERS.find((s) => s.id === key || fullA1111Name(s).toLowerCase() === key)
    ?? SAMPLERS.find((s) => s.a1111Name.toLowerCase() === key);
  if (sampler) return { sampler };
  const className = CLASS_NAMES.find((c) => c.toLowerCase() === key);
  return className ? { className } : {};
}

/** The names createScheduler accepts, for error messages and help text. */
export function allowedSamplerNames(): string[] {
  return [
    ...SAMPLERS.map((s) => s.id),
    ...new Set(SAMPLERS.flatMap((s) => [s.a1111Name, fullA1111Name(s)])),
    ...CLASS_NAMES,
  ];
}

/** The short id whose settings a class's complete config (fromConfig) has. */
function matchingSampler(className: SchedulerClassName, config: Record<string, unknown>): (typeof SAMPLERS)[number] | undefined {
  return SAMPLERS.find((s) => s.className === className && Object.entries(s.overrides).every(([k, v]) => config[k] === v));
}

/**
 * The scheduler class and config for a sampler name (null = the model's own `_class_name`) over the model's
 * scheduler_config.json. Unknown names throw and list the allowed ones.
 */
export function resolveSampler(name: string | null, modelConfig: Record<string, unknown>): ResolvedSampler {
  const modelClass = typeof modelConfig._class_name === 'string' ? modelConfig._class_name : null;
  const requested = name ?? modelClass;
  if (requested === null) {
    throw new Error('No sampler given and the scheduler config has no "_class_name"; pass one of: ' + allowedSamplerNames().join(', '));
  }
  const { sampler, className: directClass } = lookUp(requested);
  if (!sampler && !directClass) {
    const what = name === null ? `The model's scheduler "${requested}" is not supported` : `Unknown sampler "${requested}"`;
    throw new Error(`${what}; expected one of: ${allowedSamplerNames().join(', ')}`);
  }
  const className: SchedulerClassName = directClass ?? sampler!.className;
  // the model's own scheduler is the pipeline's instance: its config as it is (fix-ups included); anything picked is
  // Picked.from_config(that config, **overrides)
  const config = name === null
    ? fromConfig(className, { ...modelConfig, _use_default_values: [] })
    : fromConfig(className, modelConfig, sampler?.overrides);
  config._class_name = className;
  const matched = sampler ?? matchingSampler(className, config);
  const scheduleType: ScheduleType | undefined = config.use_karras_sigmas === true ? 'Karras' : matched?.scheduleType;
  return {
    id: matched ? matched.id : className,
    className,
    config,
    a1111Name: matched ? matched.a1111Name : className,
    ...(scheduleType ? { scheduleType } : {}),
  };
}
