/**
 * `node --import tsx bench/activation.ts`: what loading and activating the extension costs in plain Node, below
 * VS Code's own figure (npm run bench:extension). The host bundles are built as `npm run package` builds them
 * (esbuild.js --production: minified, no source map) into a scratch folder; then each run is a fresh Node process
 * (bench/activationChild.ts) that times require(dist/extension.js), activate(), the event-loop work activation
 * left behind (100 ms after), and the first "Generate Image" (the part loaded on first use).
 * Options (environment): ACTIVATION_RUNS (30); ACTIVATION_PROF=<dir>: each child runs with --cpu-prof into <dir>;
 * ACTIVATION_MINIFY=0: readable bundles (for the profiles).
 * Prints medians, min and p90, with the machine's load average (the figures are only as quiet as the machine).
 */
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const repo = path.resolve(__dirname, '..');
const runs = Number(process.env.ACTIVATION_RUNS ?? 30);
const profDir = process.env.ACTIVATION_PROF;
const minify = process.env.ACTIVATION_MINIFY !== '0';

/** The extension host's bundles, as esbuild.js builds them (entry, outfile under the extension folder). */
const HOST_ENTRIES: ReadonlyArray<readonly [string, string]> = [
  ['src/extension.ts', 'dist/extension.js'],
  ['src/hostLazy.ts', 'dist/host-lazy.js'],
];

type Sample = Record<'requireMs' | 'activateMs' | 'deferredBusyMs' | 'firstCommandMs' | 'firstPanelHtmlMs', number> & { onnxLoaded: boolean };

function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
}

async function build(dir: string): Promise<void> {
  const common = { bundle: true, platform: 'node' as const, target: 'node20', format: 'cjs' as const, logLevel: 'warning' as const };
  for (const [entry, outfile] of HOST_ENTRIES) {
    if (!fs.existsSync(path.join(repo, entry))) continue;
    await esbuild.build({ ...common, entryPoints: [path.join(repo, entry)], outfile: path.join(dir, outfile), minify, external: ['vscode', 'onnxruntime-node'] });
  }
  await esbuild.build({ ...common, entryPoints: [path.join(repo, 'bench/activationChild.ts')], outfile: path.join(dir, 'activation-child.js') });
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  fs.mkdirSync(path.join(dir, 'models'), { recursive: true });
  fs.cpSync(path.join(repo, 'models', 'catalog.json'), path.join(dir, 'models', 'catalog.json'));
}

export interface ActivationFigures {
  readonly runs: number;
  /** The bundles measured, with their sizes ("dist/extension.js 8 KB"). */
  readonly bundles: readonly string[];
  readonly loadAverage: readonly [before: number, after: number];
  /** Per figure (requireMs, activateMs, requireAndActivateMs, deferredBusyMs, firstCommandMs, firstPanelHtmlMs): median, min, p90. */
  readonly figures: Readonly<Record<string, { median: number; min: number; p90: number }>>;
  readonly onnxLoaded: boolean;
}

/** Builds the host bundles into a scratch folder and times `runs` cold activations, each in a fresh Node process. */
export async function measureActivation(runs: number, profDir?: string): Promise<ActivationFigures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inline-diffusion-activation-'));
  try {
    await build(dir);
    const bundles = HOST_ENTRIES.filter(([, out]) => fs.existsSync(path.join(dir, out)))
      .map(([, out]) => `${out} ${(fs.statSync(path.join(dir, out)).size / 1024).toFixed(0)} KB`);
    const loadBefore = os.loadavg()[0];
    const samples: Sample[] = [];
    for (let i = 0; i < runs; i++) {
      const scratch = fs.mkdtempSync(path.join(dir, 'run-'));
      const args = [...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval=100'] : []),
        path.join(dir, 'activation-child.js'), dir, scratch];
      const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`expected the activation run to exit 0; exit ${r.status}:\n${r.stdout}${r.stderr}`);
      samples.push(JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Sample);
    }
    const stats = (v: number[]) => ({ median: quantile(v, 0.5), min: quantile(v, 0), p90: quantile(v, 0.9) });
    const figures: Record<string, { median: number; min: number; p90: number }> = {
      requireAndActivateMs: stats(samples.map((s) => s.requireMs + s.activateMs)),
    };
    for (const k of ['requireMs', 'activateMs', 'deferredBusyMs', 'firstCommandMs', 'firstPanelHtmlMs'] as const) figures[k] = stats(samples.map((s) => s[k]));
    return { runs, bundles, loadAverage: [loadBefore, os.loadavg()[0]], figures, onnxLoaded: samples.some((s) => s.onnxLoaded) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const r = await measureActivation(runs, profDir);
  console.log(`${r.runs} cold activations (fresh node ${process.version} each), stub vscode; ${r.bundles.join(', ')}`);
  console.log(`load average (1 min) ${r.loadAverage[0].toFixed(2)} → ${r.loadAverage[1].toFixed(2)} on ${os.cpus().length} CPUs`);
  for (const [name, f] of Object.entries(r.figures)) {
    console.log(`  ${name.padEnd(22)} median ${f.median.toFixed(2).padStart(7)} ms  min ${f.min.toFixed(2).padStart(7)}  p90 ${f.p90.toFixed(2).padStart(7)}`);
  }
  console.log(`  onnxruntime loaded at activation: ${r.onnxLoaded ? 'YES' : 'no'}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
