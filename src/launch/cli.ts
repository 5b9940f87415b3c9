/** dist/cli.js, the `inline-diffusion` command: runs the command line's bundle (src/cli.ts → dist/cli-main.js) through the compile cache. */
import { join } from 'node:path';
import { runBundle } from './compileCache';

runBundle(join(__dirname, 'cli-main.js'));
