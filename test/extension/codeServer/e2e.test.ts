/**
 * The suite in code-server + headless Chromium (this machine's real VS Code). Run through `npm run test:e2e`
 * (scripts/e2e/run.sh: installs, builds, packages, then runs this file with a global timeout).
 * E2E_EXTENSION: the .vsix to install, or an extension folder to link (default: the repository itself).
 */
import * as path from 'node:path';
import { defineE2eSuite, REPO_ROOT } from '../suite';
import { launchCodeServer } from './launch';

const extension = path.resolve(process.env.E2E_EXTENSION ?? REPO_ROOT);

defineE2eSuite('code-server', (workspaceDir, outputDir) => launchCodeServer(workspaceDir, outputDir, { extension }));
