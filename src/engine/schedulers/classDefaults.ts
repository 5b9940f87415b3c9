/**
 * Each diffusers scheduler class's constructor defaults (diffusers main, `__init__` keyword defaults; `None` ones
 * left out since a missing key means the default here). `resolveSampler` fills a model's scheduler_config.json with
 * its own class's defaults before handing it to another class, as `Other.from_config(scheduler.config)` does
 * (an instantiated scheduler's config holds every init argument).
 */
export const SCHEDULER_CLASS_DEFAULTS = {
  DDIMScheduler: {
    num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', clip_sample: true,
    set_alpha_to_one: true, steps_offset: 0, prediction_type: 'epsilon', thresholding: false,
    dynamic_thresholding_ratio: 0.995, clip_sample_range: 1.0, sample_max_value: 1.0, timestep_spacing: 'leading',
    rescale_betas_zero_snr: false,
  },
  DDPMScheduler: {
    num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear',
    variance_type: 'fixed_small', clip_sample: true, prediction_type: 'epsilon', thresholding: false,
    dynamic_thresholding_ratio: 0.995, clip_sample_range: 1.0, sample_max_value: 1.0, timestep_spacing: 'leading',
    steps_offset: 0, rescale_betas_zero_snr: false,
  },
  PNDMScheduler: {
    num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', skip_prk_steps: false,
    set_alpha_to_one: false, prediction_type: 'epsilon', timestep_spacing: 'leading', steps_offset: 0,
  },
  LCMScheduler: {
    num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear',
    original_inference_steps: 50, clip_sample: false, clip_sample_range: 1.0, set_alpha_to_one: true, steps_offset: 0,
    prediction_type: 'epsilon', thresholding: false, dynamic_thresholding_ratio: 0.995, sample_max_value: 1.0,
    timestep_spacing: 'leading', timestep_scaling: 10.0, rescale_betas_zero_snr: false,
  },
  EulerDiscreteScheduler: {
    num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear',
    prediction_type: 'epsilon', interpolation_type: 'linear', use_karras_sigmas: false, use_exponential_sigmas: false,
    use_beta_sigmas: false, timestep_spacing: 'linspace', timestep_type: 'discrete', steps_offset: 0,
    rescale_betas_zero_snr: false, final_sigmas_type: 'zero',
  },
  EulerAncestralDiscreteScheduler: {
    num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear',
    prediction_type: 'epsilon', timestep_spacing: 'linspace', steps_offset: 0, rescale_betas_zero_snr: false,
  },
  HeunDiscreteScheduler: {
    num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'linear',
    prediction_type: 'epsilon', use_karras_sigmas: false, use_exponential_sigmas: false, use_beta_sigmas: false,
    clip_sample: false, clip_sample_range: 1.0, timestep_spacing: 'linspace', steps_offset: 0,
  },
  LMSDiscreteScheduler: {
    num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', use_karras_sigmas: false,
    use_exponential_sigmas: false, use_beta_sigmas: false, prediction_type: 'epsilon', timestep_spacing: 'linspace',
    steps_offset: 0,
  },
  DPMSolverMultistepScheduler: {
    num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', solver_order: 2,
    prediction_type: 'epsilon', thresholding: false, dynamic_thresholding_ratio: 0.995, sample_max_value: 1.0,
    algorithm_type: 'dpmsolver++', solver_type: 'midpoint', lower_order_final: true, euler_at_final: false,
    use_karras_sigmas: false, use_exponential_sigmas: false, use_beta_sigmas: false, use_lu_lambdas: false,
    use_flow_sigmas: false, flow_shift: 1.0, final_sigmas_type: 'zero', timestep_spacing: 'linspace', steps_offset: 0,
    rescale_betas_zero_snr: false, use_dynamic_shifting: false, time_shift_type: 'exponential',
  },
  UniPCMultistepScheduler: {
    num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', solver_order: 2,
    prediction_type: 'epsilon', thresholding: false, dynamic_thresholding_ratio: 0.995, sample_max_value: 1.0,
    predict_x0: true, solver_type: 'bh2', lower_order_final: true, use_karras_sigmas: false,
    use_exponential_sigmas: false, use_beta_sigmas: false, use_flow_sigmas: false, flow_shift: 1.0,
    timestep_spacing: 'linspace', steps_offset: 0, final_sigmas_type: 'zero', rescale_betas_zero_snr: false,
    use_dynamic_shifting: false, time_shift_type: 'exponential',
  },
} as const satisfies Record<string, Readonly<Record<string, unknown>>>;

export type SchedulerClassName = keyof typeof SCHEDULER_CLASS_DEFAULTS;
