/** dist/engine.js, the engine process the extension forks: runs src/engine/main.ts (dist/engine-main.js) through the compile cache. */
import { join } from 'node:path';
import { runBundle } from './compileCache';

runBundle(join(__dirname, 'engine-main.js'));
