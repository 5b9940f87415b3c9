/** A seeded source of standard-normal float32 numbers. */
export interface Rng {
  randn(count: number): Float32Array;
}
