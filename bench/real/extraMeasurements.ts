/**
 * The hook for measurements other work adds to `npm run bench:real` (e.g. a LoRA's cost at full size): append one
 * entry here. Each runs after the built-in ones, on the same built models; what it returns is printed and written
 * under `extra.<name>` of the JSON. Run heavy parts as child processes (whole-process peak RSS, as the others).
 */
export interface RealBenchContext {
  /** The cache folder holding the built models (sd15-fp32/, sd15-fp16/, torch/). */
  readonly cache: string;
  readonly sd15Fp32: string;
  readonly sd15Fp16: string;
  /** The torch state dicts (save_pretrained folders: unet_sd15, te_l, vae, taesd). */
  readonly torchDir: string;
  readonly diffusersSrc: string;
  readonly python: string;
  readonly threads: number;
  readonly steps: number;
  readonly provider: 'cpu' | 'cuda';
  /** Runs a command at the bench's priority and returns its last stdout line parsed as JSON. */
  runJson(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): Record<string, unknown>;
}

export interface RealBenchMeasurement {
  readonly name: string;
  run(ctx: RealBenchContext): Promise<Record<string, unknown>>;
}

import { loraMeasurement } from './lora';

/** Issue 16's LoRA cost at full size: patch, session creation, the same set again, disk, peak memory, LCM 4 steps. */
export const EXTRA_MEASUREMENTS: RealBenchMeasurement[] = [loraMeasurement];
