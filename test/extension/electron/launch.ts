/**
 * A VS Code (Electron) window for the suite, on machines that can download VS Code: @vscode/test-electron downloads
 * and unzips the build (cached in .vscode-test/), its CLI installs the .vsix (or the window loads the folder as an
 * extensionDevelopmentPath), and playwright-core's `_electron` drives the window, as VS Code's own smoke tests do.
 * Linux without a display: run under `xvfb-run -a`.
 */
import { downloadAndUnzipVSCode, resolveCliArgsFromVSCodeExecutablePath } from '@vscode/test-electron';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadPlaywright } from '../playwright';
import { e2eSettings, makeLogger, readLogs, type LaunchedSession } from '../session';

export interface ElectronOptions {
  readonly extension: string;
  /** 'stable' (default), 'insiders' or a version like '1.95.0' (E2E_VSCODE_VERSION). */
  readonly version?: string;
  readonly env?: Readonly<Record<string, string>>;
}

const SETTINGS = {
  'workbench.startupEditor': 'none', 'telemetry.telemetryLevel': 'off', 'update.mode': 'none',
  'extensions.autoCheckUpdates': false, 'extensions.autoUpdate': false, 'security.workspace.trust.enabled': false,
  'workbench.tips.enabled': false, 'chat.disableAIFeatures': true, 'window.titleBarStyle': 'custom', 'git.enabled': false,
  'editor.wordWrap': 'off', '[markdown]': { 'editor.wordWrap': 'off' }, 'remote.autoForwardPorts': false,
};

export async function launchElectron(workspaceDir: string, outputDir: string, options: ElectronOptions): Promise<LaunchedSession> {
  const log = makeLogger();
  const executable = await downloadAndUnzipVSCode(options.version ?? 'stable');
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'idx-e2e-electron-'));
  const ud = path.join(runDir, 'ud');
  const ext = path.join(runDir, 'ext');
  fs.mkdirSync(path.join(ud, 'User'), { recursive: true });
  fs.mkdirSync(ext);
  fs.writeFileSync(path.join(ud, 'User', 'settings.json'), JSON.stringify(e2eSettings(SETTINGS), null, 1));
  const dirs = [`--user-data-dir=${ud}`, `--extensions-dir=${ext}`];
  const extensionArgs: string[] = [];
  if (options.extension.endsWith('.vsix')) {
    const [cli, ...cliArgs] = resolveCliArgsFromVSCodeExecutablePath(executable);
    const r = spawnSync(cli, [...cliArgs, ...dirs, '--install-extension', options.extension], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`expected --install-extension to succeed; exit ${r.status}: ${r.stdout}${r.stderr}`);
  } else {
    extensionArgs.push(`--extensionDevelopmentPath=${path.resolve(options.extension)}`);
  }
  const { _electron } = loadPlaywright();
  const app = await _electron.launch({
    executablePath: executable, timeout: 120_000,
    env: { ...(process.env as Record<string, string>), ...options.env },
    // As VS Code's own smoke tests launch it (test/automation/src/electron.ts), plus a throwaway secret store.
    args: [workspaceDir, ...dirs, ...extensionArgs, '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes',
      '--disable-telemetry', '--disable-experiments', '--disable-updates', '--no-cached-data', '--use-inmemory-secretstorage',
      '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await Promise.race([app.close(), new Promise((r) => setTimeout(r, 15_000))]).catch(() => undefined);
    const pid = app.process().pid;
    if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    if (!process.env.E2E_KEEP_WORKSPACE) fs.rmSync(runDir, { recursive: true, force: true });
  };
  try {
    const page = await app.firstWindow({ timeout: 120_000 });
    page.setDefaultTimeout(30_000);
    await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
    log('workbench visible (electron)');
    return {
      page, workspaceDir, outputDir, flavour: 'electron', log, close,
      readExtensionHostLog: () => readLogs(path.join(ud, 'logs'), /exthost\d*[\\/].*\.log$/),
    };
  } catch (error) {
    await close();
    throw error;
  }
}
