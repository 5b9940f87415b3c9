/**
 * Benchmark hook (npm run bench:extension, bench/extension.ts): when INLINE_DIFFUSION_BENCH_OUT names a file, the
 * extension host's event-loop lag is sampled from activation on. Without the variable this is a no-op.
 * No `vscode` import: only Node's timers, perf_hooks and small appends (so the probe barely disturbs what it measures).
 *
 * Lag sample: a timer asks to run every `intervalMs`; how late it actually ran is the time the loop was busy with
 * something else (the quantity perf_hooks.monitorEventLoopDelay measures; its histogram is written alongside).
 * Files: <out> gets a line "epochMs lagMs cpuMs" per tick, appended about twice a second (cpuMs: the host process's
 * CPU time since the previous tick, which tells its own work from a machine too busy to run it);
 * <out>.histogram.json gets { pid, intervalMs, min, max, mean, p99, count } of monitorEventLoopDelay, in ms;
 * <out>.gc gets a line "epochMs durationMs" per garbage collection (so a lag spike can be matched to a GC pause).
 */
import * as fs from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { toDisposable, type IDisposable } from '../util/disposable';

export const BENCH_OUT_ENV = 'INLINE_DIFFUSION_BENCH_OUT';

export function registerBenchHooks(env: NodeJS.ProcessEnv = process.env, intervalMs = 10): IDisposable {
  const out = env[BENCH_OUT_ENV];
  if (!out) return toDisposable(() => undefined);
  fs.writeFileSync(out, '');
  let pending: string[] = [];
  const histogram = monitorEventLoopDelay({ resolution: intervalMs });
  histogram.enable();
  let expected = performance.now() + intervalMs;
  let cpu = process.cpuUsage();
  let timer: NodeJS.Timeout;
  const tick = (): void => {
    const now = performance.now();
    const used = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    pending.push(`${Date.now()} ${Math.max(0, now - expected).toFixed(3)} ${((used.user + used.system) / 1000).toFixed(3)}\n`);
    expected = now + intervalMs;
    timer = setTimeout(tick, intervalMs);
  };
  timer = setTimeout(tick, intervalMs);
  const flush = (): void => {
    if (pending.length) fs.appendFileSync(out, pending.join(''));
    pending = [];
    const ms = (ns: number): number => ns / 1e6;
    fs.writeFileSync(`${out}.histogram.json`, JSON.stringify({
      pid: process.pid, intervalMs, min: ms(histogram.min), max: ms(histogram.max), mean: ms(histogram.mean),
      p99: ms(histogram.percentile(99)), count: histogram.count,
    }));
  };
  const gcLines: string[] = [];
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcLines.push(`${(performance.timeOrigin + e.startTime).toFixed(1)} ${e.duration.toFixed(3)}\n`);
  });
  gc.observe({ entryTypes: ['gc'] });
  const flushGc = (): void => {
    if (gcLines.length) fs.appendFileSync(`${out}.gc`, gcLines.splice(0).join(''));
  };
  const writer = setInterval(() => { flush(); flushGc(); }, 500);
  return toDisposable(() => {
    gc.disconnect();
    flushGc();
    clearTimeout(timer);
    clearInterval(writer);
    histogram.disable();
    flush();
  });
}
