/**
 * dist/cli.js, the `inline-diffusion` command: loads the CLI bundle (dist/cli-main.js) through a V8 code cache,
 * as Node ≥ 22's module.enableCompileCache() does, because Node 20 has none: compiling the ~370 KB bundle is the
 * largest part of the CLI's start-up beyond ONNX Runtime's own. The cache lives in the temp folder, keyed by the
 * bundle's size and mtime and by Node's version; a missing, stale or rejected cache only means a normal compile
 * (and a new cache written at exit). Imports nothing but Node's built-ins (no bundle of its own to compile).
 */
import * as fs from 'node:fs';
import Module = require('node:module');
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';

/** Module's CommonJS helpers that @types/node does not declare. */
interface ModuleInternals {
  _nodeModulePaths(dir: string): string[];
  wrap(source: string): string;
}
type Wrapped = (exports: unknown, require: NodeJS.Require, module: NodeModule, filename: string, dirname: string) => void;

const bundle = path.join(__dirname, 'cli-main.js');

function cacheFileFor(st: fs.Stats): string {
  let user = 'user';
  try {
    user = String(os.userInfo().uid);
  } catch {
    // no uid on some systems: one shared name is fine, the cache is only an optimisation
  }
  const key = `${st.size}-${Math.round(st.mtimeMs)}-${process.version}-${process.arch}`;
  return path.join(os.tmpdir(), `inline-diffusion-${user}`, `cli-main-${key}.v8cache`);
}

function readCache(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

function writeCache(file: string, data: Buffer): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
    // Caches of earlier bundles (another size, mtime or Node) are never read again.
    for (const name of fs.readdirSync(path.dirname(file))) {
      if (name.startsWith('cli-main-') && name.endsWith('.v8cache') && name !== path.basename(file)) {
        fs.rmSync(path.join(path.dirname(file), name), { force: true });
      }
    }
  } catch {
    // read-only or full temp folder: the next start compiles again
  }
}

function load(): void {
  const st = fs.statSync(bundle);
  const source = fs.readFileSync(bundle, 'utf8');
  const cacheFile = cacheFileFor(st);
  const cachedData = readCache(cacheFile);
  const internals = Module as unknown as ModuleInternals;
  const script = new vm.Script(internals.wrap(source), { filename: bundle, cachedData });
  if (cachedData === undefined || script.cachedDataRejected === true) {
    // At exit the cache also holds the functions compiled while running, not only the top level.
    process.once('exit', () => writeCache(cacheFile, script.createCachedData()));
  }
  const mod = new Module(bundle, module);
  mod.filename = bundle;
  mod.paths = internals._nodeModulePaths(path.dirname(bundle));
  const req = Module.createRequire(bundle);
  (script.runInThisContext() as Wrapped).call(mod.exports, mod.exports, req, mod, bundle, path.dirname(bundle));
}

load();
