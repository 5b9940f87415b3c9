/**
 * Registers the scenarios with node's test runner around one launched VS Code window. Both runners call this:
 * codeServer/e2e.test.ts (code-server + Chromium, here) and electron/e2e.test.ts (@vscode/test-electron's VS Code).
 * Screenshots and logs go to E2E_OUTPUT_DIR (default test-output/e2e/<flavour>-<time>/, git-ignored).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SCENARIOS } from './scenarios';
import type { LaunchedSession, Launcher } from './session';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export function e2eOutputDir(flavour: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = process.env.E2E_OUTPUT_DIR ?? path.join(REPO_ROOT, 'test-output', 'e2e', `${flavour}-${stamp}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export function defineE2eSuite(flavour: 'code-server' | 'electron', launch: Launcher): void {
  describe(`Inline Diffusion in a real VS Code (${flavour})`, () => {
    let session: LaunchedSession | undefined;
    let workspaceDir = '';
    const outputDir = e2eOutputDir(flavour);

    before(async () => {
      console.log(`# test output (screenshots, logs): ${outputDir}`);
      workspaceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'idx-e2e-ws-'));
      session = await launch(workspaceDir, outputDir);
    }, { timeout: 240_000 });

    after(async () => {
      if (session) {
        try {
          await session.page.screenshot({ path: path.join(outputDir, 'final.png') });
        } catch {
          // the window may already be gone
        }
        fs.writeFileSync(path.join(outputDir, 'extension-host.log'), session.readExtensionHostLog());
        await session.close();
      }
      if (workspaceDir && !process.env.E2E_KEEP_WORKSPACE) fs.rmSync(workspaceDir, { recursive: true, force: true });
    }, { timeout: 60_000 });

    // E2E_ONLY: run only the scenarios whose name matches this regular expression (case-insensitive)
    const only = process.env.E2E_ONLY ? new RegExp(process.env.E2E_ONLY, 'i') : null;
    for (const [name, scenario] of SCENARIOS.filter(([n]) => only === null || only.test(n))) {
      it(name, { timeout: 180_000 }, async () => {
        if (!session) throw new Error('expected a VS Code window; the launch failed (see the hook error above)');
        const current = session;
        try {
          await scenario(current);
        } catch (error) {
          const shot = path.join(outputDir, `failed-${name.split(':')[0].replace(/\W+/g, '-')}.png`);
          await current.page.screenshot({ path: shot }).catch(() => undefined);
          current.log('failure screenshot', shot);
          throw error;
        }
      });
    }
  });
}
