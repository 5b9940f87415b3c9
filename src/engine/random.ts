/** A seeded source of standard-normal float32 numbers. */
export interface Rng {
  randn(count: number): Float32Array;
}

export { TorchGenerator } from './random/torch';
export type { TorchGeneratorOptions, TorchKernel } from './random/torch';
export { PhiloxGenerator } from './random/philox';
