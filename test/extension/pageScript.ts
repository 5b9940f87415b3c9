/**
 * Running our own functions inside a page or frame. tsx (esbuild keepNames) wraps nested functions in `__name(…)`,
 * which does not exist in the page, so every in-page call first defines it there as the identity.
 */
import type { Locator } from './playwright';

export async function evaluateIn<R, A>(target: Locator, fn: (element: Element, arg: A) => R | Promise<R>, arg: A,
  timeoutMs = 10_000): Promise<R> {
  await target.evaluate(() => {
    (globalThis as unknown as Record<string, unknown>).__name = (f: unknown): unknown => f;
  }, null, { timeout: timeoutMs });
  return target.evaluate(fn, arg, { timeout: timeoutMs });
}
