/** The random room's front door: seeded standard-normal sources (ARCHITECTURE.md: TorchGenerator, PhiloxGenerator). */
export type { Rng } from './types';
export { TorchGenerator } from './torch';
export type { TorchGeneratorOptions, TorchKernel } from './torch';
export { PhiloxGenerator } from './philox';
export { firstImageNoise, slerpA1111 } from './variationNoise';
export type { NoiseShape, VariationNoiseOptions } from './variationNoise';
