/** Config keys shared by the multistep solvers (DPMSolverMultistepScheduler, UniPCMultistepScheduler). */
import { readBool, readEnum, readInteger, readNumber, type RawConfig } from './common';
import { readSigmaSchedule, type SigmaSchedule } from './sigmas';

export interface MultistepExtras {
  readonly solverOrder: number;
  readonly lowerOrderFinal: boolean;
  readonly finalSigmasType: 'zero' | 'sigma_min';
  readonly sigmaSchedule: SigmaSchedule;
  readonly thresholding: boolean;
  readonly dynamicThresholdingRatio: number;
  readonly sampleMaxValue: number;
}

/**
 * Reads the shared keys of a class's complete config (withClassDefaults) and rejects the flow-matching options,
 * which these classes' SD use lacks. A class without final_sigmas_type (DEIS) ends at the first training σ.
 */
export function readMultistepExtras(config: RawConfig, className: string): MultistepExtras {
  for (const key of ['use_flow_sigmas', 'use_dynamic_shifting']) {
    if (readBool(config, key)) throw new Error(`${className}: ${key} true is not supported (flow-matching models); got true`);
  }
  const solverOrder = readInteger(config, 'solver_order', 1);
  if (solverOrder > 3) throw new Error(`Scheduler config "solver_order" must be an integer in [1, 3]; got ${solverOrder}`);
  return {
    solverOrder,
    lowerOrderFinal: readBool(config, 'lower_order_final'),
    finalSigmasType: 'final_sigmas_type' in config ? readEnum(config, 'final_sigmas_type', ['zero', 'sigma_min'] as const) : 'sigma_min',
    sigmaSchedule: readSigmaSchedule(config),
    thresholding: readBool(config, 'thresholding'),
    dynamicThresholdingRatio: readNumber(config, 'dynamic_thresholding_ratio'),
    sampleMaxValue: readNumber(config, 'sample_max_value'),
  };
}

/** A number, where the strings "-inf"/"inf" (Python's float('inf') as some tools write it) are accepted. */
export function readNumberOrInfinity(config: RawConfig, key: string): number {
  const value = config[key];
  if (value === '-inf' || value === '-Infinity' || value === -Infinity) return -Infinity;
  if (value === 'inf' || value === 'Infinity' || value === Infinity) return Infinity;
  return readNumber(config, key);
}
