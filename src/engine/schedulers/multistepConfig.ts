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

/** Reads the shared keys (diffusers' defaults) and rejects the flow-matching options, which these classes lack. */
export function readMultistepExtras(raw: RawConfig, className: string): MultistepExtras {
  for (const key of ['use_flow_sigmas', 'use_dynamic_shifting']) {
    if (readBool(raw, key, false)) throw new Error(`${className}: ${key} true is not supported (flow-matching models); got true`);
  }
  return {
    solverOrder: readIntegerInRange(raw, 'solver_order', 2, 1, 3),
    lowerOrderFinal: readBool(raw, 'lower_order_final', true),
    finalSigmasType: readEnum(raw, 'final_sigmas_type', ['zero', 'sigma_min'] as const, 'zero'),
    sigmaSchedule: readSigmaSchedule(raw),
    thresholding: readBool(raw, 'thresholding', false),
    dynamicThresholdingRatio: readNumber(raw, 'dynamic_thresholding_ratio', 0.995),
    sampleMaxValue: readNumber(raw, 'sample_max_value', 1.0),
  };
}

function readIntegerInRange(raw: RawConfig, key: string, fallback: number, min: number, max: number): number {
  const value = readInteger(raw, key, fallback, min);
  if (value > max) throw new Error(`Scheduler config "${key}" must be an integer in [${min}, ${max}]; got ${value}`);
  return value;
}

/** A number, where null/missing and the strings "-inf"/"inf" (Python's float('inf') in JSON) are accepted. */
export function readNumberOrInfinity(raw: RawConfig, key: string, fallback: number): number {
  const value = raw[key];
  if (value === '-inf' || value === '-Infinity') return -Infinity;
  if (value === 'inf' || value === 'Infinity') return Infinity;
  return readNumber(raw, key, fallback);
}
