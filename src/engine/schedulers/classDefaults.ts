/**
 * Each diffusers scheduler class's defaults, written once: its `__init__` keyword arguments as diffusers 0.40 declares
 * them (None as null), which are also the keys the class accepts. The classes read their config over these
 * (withClassDefaults), from_config (fromConfig.ts) gives a picked class these where the config has no value, and the
 * pipeline's fix-ups (pipelineSchedulerConfig.ts) read the model class's. Data only: it loads without the classes.
 * test/engine/schedulers/realConfigs.test.ts checks every entry against diffusers' signatures.
 */
import type { ClassDefaults } from './configParsing';

export const SCHEDULER_CLASS_DEFAULTS = {
  DDIMScheduler: {
    num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', trained_betas: null,
    clip_sample: true, set_alpha_to_one: true, steps_offset: 0, prediction_type: 'epsilon', thresholding: false,
    dynamic_thresholding_ratio: 0.995, clip_sample_range: 1.0, sample_max_value: 1.0, timestep_spacing: 'leading',
    rescale_betas_zero_snr: false,
  },
  DDPMScheduler: {
    num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', trained_betas: null,
    variance_type: 'fixed_small', clip_sample: true, prediction_type: 'epsilon', thresholding: false,
    dynamic_thresholding_ratio: 0.995, clip_sample_range: 1.0, sample_max_value: 1.0, timestep_spacing: 'leading',
    steps_offset: 0, rescale_betas_zero_snr: false,
  },
  PNDMScheduler: {
    num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', trained_betas: null,
    skip_prk_steps: false, set_alpha_to_one: false, prediction_type: 'epsilon', timestep_spacing: 'leading', steps_offset: 0,
  },
  LCMScheduler: {
    num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', trained_betas: null,
    original_inference_steps: 50, clip_sample: false, clip_sample_range: 1.0, set_alpha_to_one: true, steps_offset: 0,
    prediction_type: 'epsilon', thresholding: false, dynamic_thresholding_ratio: 0.995, sample_max_value: 1.0,
    timestep_spacing: 'leading', timestep_scaling: 10.0, rescale_betas_zero_snr: false,
  },
  EulerDiscreteScheduler: {
    num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', trained_betas: null,
    prediction_type: 'epsilon', interpolation_type: 'linear', use_karras_sigmas: false, use_exponential_sigmas: false,
    use_beta_sigmas: false, sigma_min: null, sigma_max: null, timestep_spacing: 'linspace', timestep_type: 'discrete',
    steps_offset: 0, rescale_betas_zero_snr: false, final_sigmas_type: 'zero',
  },
  EulerAncestralDiscreteScheduler: {
    num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', trained_betas: null,
    prediction_type: 'epsilon', timestep_spacing: 'linspace', steps_offset: 0, rescale_betas_zero_snr: false,
  },
  HeunDiscreteScheduler: { // no rescale_betas_zero_snr
    num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'linear', trained_betas: null,
    prediction_type: 'epsilon', use_karras_sigmas: false, use_exponential_sigmas: false, use_beta_sigmas: false,
    clip_sample: false, clip_sample_range: 1.0, timestep_spacing: 'linspace', steps_offset: 0,
  },
  LMSDiscreteScheduler: { // no rescale_betas_zero_snr
    num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', trained_betas: null,
    use_karras_sigmas: false, use_exponential_sigmas: false, use_beta_sigmas: false, prediction_type: 'epsilon',
    timestep_spacing: 'linspace', steps_offset: 0,
  },
  DPMSolverMultistepScheduler: {
    num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', trained_betas: null,
    solver_order: 2, prediction_type: 'epsilon', thresholding: false, dynamic_thresholding_ratio: 0.995,
    sample_max_value: 1.0, algorithm_type: 'dpmsolver++', solver_type: 'midpoint', lower_order_final: true,
    euler_at_final: false, use_karras_sigmas: false, use_exponential_sigmas: false, use_beta_sigmas: false,
    use_lu_lambdas: false, use_flow_sigmas: false, flow_shift: 1.0, final_sigmas_type: 'zero',
    lambda_min_clipped: -Infinity, variance_type: null, timestep_spacing: 'linspace', steps_offset: 0,
    rescale_betas_zero_snr: false, use_dynamic_shifting: false, time_shift_type: 'exponential',
  },
  UniPCMultistepScheduler: {
    num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', trained_betas: null,
    solver_order: 2, prediction_type: 'epsilon', thresholding: false, dynamic_thresholding_ratio: 0.995,
    sample_max_value: 1.0, predict_x0: true, solver_type: 'bh2', lower_order_final: true, disable_corrector: [],
    solver_p: null, use_karras_sigmas: false, use_exponential_sigmas: false, use_beta_sigmas: false, use_flow_sigmas: false,
    flow_shift: 1.0, timestep_spacing: 'linspace', steps_offset: 0, final_sigmas_type: 'zero',
    rescale_betas_zero_snr: false, use_dynamic_shifting: false, time_shift_type: 'exponential', sigma_min: null,
    sigma_max: null, shift_terminal: null,
  },
  DEISMultistepScheduler: { // no rescale_betas_zero_snr, no final_sigmas_type
    num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', trained_betas: null,
    solver_order: 2, prediction_type: 'epsilon', thresholding: false, dynamic_thresholding_ratio: 0.995,
    sample_max_value: 1.0, algorithm_type: 'deis', solver_type: 'logrho', lower_order_final: true,
    use_karras_sigmas: false, use_exponential_sigmas: false, use_beta_sigmas: false, use_flow_sigmas: false,
    flow_shift: 1.0, timestep_spacing: 'linspace', steps_offset: 0, use_dynamic_shifting: false,
    time_shift_type: 'exponential',
  },
  KDPM2DiscreteScheduler: { // no rescale_betas_zero_snr
    num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'linear', trained_betas: null,
    use_karras_sigmas: false, use_exponential_sigmas: false, use_beta_sigmas: false, prediction_type: 'epsilon',
    timestep_spacing: 'linspace', steps_offset: 0,
  },
  KDPM2AncestralDiscreteScheduler: { // no rescale_betas_zero_snr
    num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'linear', trained_betas: null,
    use_karras_sigmas: false, use_exponential_sigmas: false, use_beta_sigmas: false, prediction_type: 'epsilon',
    timestep_spacing: 'linspace', steps_offset: 0,
  },
} as const satisfies Record<string, ClassDefaults>;

export type SchedulerClassName = keyof typeof SCHEDULER_CLASS_DEFAULTS;
