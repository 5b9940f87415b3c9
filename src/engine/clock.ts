/**
 * A monotonic clock in milliseconds for the engine's timings. process.hrtime rather than performance.now: the
 * `performance` global loads Node's perf_hooks modules on first use (~1 ms of every CLI start).
 */
export function nowMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}
