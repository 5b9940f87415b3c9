/**
 * One whole generation through the Engine in this process (as the CLI runs it), for `npm run bench:real`: prints one
 * JSON line with the engine's timings (load, each UNet step, VAE), the wall time, and the process's peak RSS.
 * Usage: node --import tsx bench/real/engineRun.ts MODEL_DIR STEPS THREADS SIZE VAE_DECODE PROVIDER
 * BENCH_FP32_COPIES=0: an fp16 model runs as it is on the CPU (no fp32 copy); the copies go to $INLINE_DIFFUSION_FP32_CACHE
 * where it is set. With a copy, `fp32Copy` is the engine's note and `fp32CopyMs` the conversion's time when this run made it.
 */
import { Engine } from '../../src/engine/engine';

async function main(): Promise<void> {
  const [modelDir, steps, threads, size, vaeDecode, provider] = process.argv.slice(2);
  const start = performance.now();
  // BENCH_LOG_INFO=1: every engine message and step on stderr with the ms since the start (where a run that is
  // stopped got to, for rssGuard.ts)
  const verbose = process.env.BENCH_LOG_INFO === '1';
  const at = (): string => `${Math.round(performance.now() - start)} ms`;
  const engine = new Engine({
    fp32Copies: process.env.BENCH_FP32_COPIES !== '0',
    log: (level, m) => { if (level !== 'info' || verbose) process.stderr.write(`${verbose ? `[${at()}] ` : ''}${level}: ${m}\n`); },
  });
  const out = await engine.generate({
    modelDir, prompt: 'a lighthouse on a cliff at dusk', negativePrompt: null, sampler: 'euler', steps: Number(steps), cfgScale: 7.5,
    seed: 1, width: Number(size), height: Number(size), batchSize: 1, initImage: null, strength: 0.75, previews: false, rng: 'cpu',
    vaeDecode: vaeDecode as 'auto', executionProvider: provider as 'cpu', threads: Number(threads),
  }, verbose ? { onProgress: (p) => process.stderr.write(`[${at()}] step ${p.step}/${p.totalSteps}: ${Math.round(p.stepMs)} ms\n`) } : {});
  const wallMs = performance.now() - start;
  process.stdout.write(`${JSON.stringify({ timingsMs: out.timingsMs, wallMs, peakRssBytes: process.resourceUsage().maxRSS * 1024,
    executionProvider: out.executionProvider, warnings: out.warnings,
    ...(out.fp32Copy === undefined ? {} : { fp32Copy: out.fp32Copy, fp32CopyMs: Number(/made now in ([\d.]+) s/.exec(out.fp32Copy)?.[1] ?? 0) * 1000 }) })}\n`);
}

main().then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
