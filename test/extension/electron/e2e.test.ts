/**
 * The same scenarios in VS Code's Electron build, through @vscode/test-electron. For machines that can download
 * VS Code (not these: only npm and apt are reachable here; use the code-server runner, `npm run test:e2e`).
 *   E2E_PLAYWRIGHT_ONLY=1 scripts/e2e/install.sh          # playwright-core into the e2e cache
 *   npm run package                                       # or E2E_EXTENSION=. to load the folder
 *   E2E_EXTENSION=inline-diffusion-linux-x64-0.1.0.vsix xvfb-run -a node --import tsx --test test/extension/electron/e2e.test.ts
 * E2E_VSCODE_VERSION: 'stable' (default), 'insiders' or a version.
 */
import * as path from 'node:path';
import { defineE2eSuite, REPO_ROOT } from '../suite';
import { launchElectron } from './launch';

const extension = path.resolve(process.env.E2E_EXTENSION ?? REPO_ROOT);

defineE2eSuite('electron', (workspaceDir, outputDir) =>
  launchElectron(workspaceDir, outputDir, { extension, version: process.env.E2E_VSCODE_VERSION }));
