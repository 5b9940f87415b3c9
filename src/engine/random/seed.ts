/** Seeds as torch and numpy read them: 64-bit unsigned, negative values wrapping as int64 would. */

/** The low 32 bits of a seed given as a number or bigint (negative seeds wrap as int64 would). */
export function toUint32Seed(seed: number | bigint): number {
  return Number(BigInt.asUintN(32, toBigIntSeed(seed)));
}

/** A seed as a bigint in [0, 2^64), as torch's `manual_seed` and numpy's uint64 see it. */
export function toBigIntSeed(seed: number | bigint): bigint {
  if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
    throw new RangeError(`Expected an integer seed (a safe integer or a bigint), got ${seed}`);
  }
  return BigInt.asUintN(64, BigInt(seed));
}
