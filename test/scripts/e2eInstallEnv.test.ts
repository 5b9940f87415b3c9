/**
 * The e2e installer's inner npm gets an environment of its own (scripts/e2e/clean-env.sh): started from
 * `npm run test:e2e`, the outer npm's variables (npm_config_user_agent "npm/… node/v20…", which code-server's
 * postinstall reads as the Node version, npm_config_node_gyp, npm_node_execpath, npm_package_*, INIT_CWD, PATH's
 * node_modules/.bin, …) must not reach it, while HOME, proxies, certificates and npm's registry/cache settings do.
 * Nothing is downloaded: the first test runs the real npm's `npm run` on a probe package, the second runs
 * scripts/e2e/install.sh with a stand-in `npm` that records what it was given.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const repo = path.resolve(__dirname, '../..');
const cleanEnv = path.join(repo, 'scripts', 'e2e', 'clean-env.sh');
const installSh = path.join(repo, 'scripts', 'e2e', 'install.sh');

/** What an outer `npm run` (on another Node) exports, plus settings of the machine that must survive. */
function pollutedEnv(tmp: string, pathDirs: string[]): NodeJS.ProcessEnv {
  const outer = path.join(tmp, 'outer');
  return {
    ...process.env,
    PATH: [...pathDirs, process.env.PATH ?? ''].join(path.delimiter),
    npm_config_user_agent: 'npm/0.0.1 node/v0.0.0-outer linux x64 workspaces/false',
    npm_config_node_gyp: path.join(outer, 'node-gyp.js'),
    npm_config_nodedir: path.join(outer, 'headers'),
    npm_config_prefix: path.join(outer, 'prefix'),
    npm_config_global_prefix: path.join(outer, 'prefix'),
    npm_config_local_prefix: outer,
    npm_config_loglevel: 'silent',
    NPM_CONFIG_ALLOW_SCRIPTS: '',
    npm_node_execpath: path.join(outer, 'node'),
    npm_execpath: path.join(outer, 'npm-cli.js'),
    npm_package_name: 'outer-project',
    npm_package_json: path.join(outer, 'package.json'),
    npm_lifecycle_event: 'test:e2e',
    npm_lifecycle_script: 'bash scripts/e2e/run.sh',
    npm_command: 'run',
    INIT_CWD: outer,
    NODE: path.join(outer, 'node'),
    NODE_OPTIONS: `--require ${path.join(outer, 'missing.js')}`,
    // the machine's, kept
    https_proxy: 'http://proxy.invalid:3128',
    NO_PROXY: 'localhost',
    NODE_EXTRA_CA_CERTS: path.join(tmp, 'ca.pem'),
    npm_config_cache: path.join(tmp, 'npm-cache'),
    NPM_CONFIG_REGISTRY: 'http://registry.invalid/',
  };
}

test('clean-env.sh: the inner npm sees its own Node, package and paths, and the machine\'s proxy, certificates, registry and cache', (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clean-env-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  // What an outer npm puts first on PATH: its project's node_modules/.bin and its node-gyp-bin, each with a decoy.
  const outerBin = path.join(tmp, 'outer', 'node_modules', '.bin');
  const gypBin = path.join(tmp, 'outer', 'run-script', 'lib', 'node-gyp-bin');
  for (const dir of [outerBin, gypBin]) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'node'), '#!/bin/sh\necho "the outer npm\'s PATH was used" >&2\nexit 3\n', { mode: 0o755 });
  }
  const probe = path.join(tmp, 'probe');
  fs.mkdirSync(probe);
  fs.writeFileSync(path.join(probe, 'package.json'), JSON.stringify({
    name: 'probe', version: '1.0.0', scripts: { dump: 'node -e "console.log(JSON.stringify(process.env))"' },
  }));
  const nodeDir = path.dirname(process.execPath);
  const out = execFileSync(cleanEnv, ['JOBS=max', 'npm', 'run', '--no-update-notifier', 'dump'], {
    cwd: probe, encoding: 'utf8', env: pollutedEnv(tmp, [outerBin, gypBin, nodeDir]),
  });
  const seen = JSON.parse(out.trim().split('\n').pop() ?? '') as Record<string, string | undefined>;

  assert.match(seen.npm_config_user_agent ?? '', new RegExp(`^npm/\\S+ node/${process.version.replace(/\./g, '\\.')} `));
  assert.equal(seen.npm_node_execpath, process.execPath);
  assert.equal(seen.npm_package_name, 'probe');
  assert.equal(seen.npm_lifecycle_event, 'dump');
  assert.equal(fs.realpathSync(seen.INIT_CWD ?? '.'), fs.realpathSync(probe));
  const outer = path.join(tmp, 'outer');
  const fromOuter = Object.entries(seen).filter(([k, v]) => v?.includes(outer) && k !== 'PATH').map(([k]) => k);
  assert.deepEqual(fromOuter, [], 'variables that still point at the outer npm');
  assert.ok(!(seen.PATH ?? '').split(path.delimiter).includes(outerBin), `outer node_modules/.bin still on PATH: ${seen.PATH}`);
  assert.equal(seen.NODE_OPTIONS, undefined);
  assert.equal(seen.npm_config_loglevel, undefined);
  assert.deepEqual(
    [seen.HOME, seen.https_proxy, seen.NO_PROXY, seen.NODE_EXTRA_CA_CERTS, seen.npm_config_cache, seen.NPM_CONFIG_REGISTRY, seen.JOBS],
    [process.env.HOME, 'http://proxy.invalid:3128', 'localhost', path.join(tmp, 'ca.pem'), path.join(tmp, 'npm-cache'), 'http://registry.invalid/', 'max'],
  );
});

test('install.sh runs its inner npm without the outer npm\'s variables, with the settings it adds', (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-install-env-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  // A stand-in npm: `config get globalconfig` answers a path; `install <name>@<version>` records its environment
  // and arguments and writes the package.json install.sh checks afterwards.
  const bin = path.join(tmp, 'bin');
  const record = path.join(tmp, 'record.json');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'npm'), `#!/usr/bin/env bash
if [ "$1" = config ]; then echo /etc/machine-npmrc; exit 0; fi
spec=\${@: -1}; name=\${spec%@*}; version=\${spec##*@}
node -e 'require("fs").writeFileSync(process.argv[1], JSON.stringify({ env: process.env, args: process.argv.slice(2) }))' ${JSON.stringify(record)} "$@"
mkdir -p "node_modules/$name" && echo "{\\"version\\":\\"$version\\"}" > "node_modules/$name/package.json"
`, { mode: 0o755 });
  const cache = path.join(tmp, 'cache');
  const stdout = execFileSync('bash', [installSh, cache], {
    cwd: repo, encoding: 'utf8', env: { ...pollutedEnv(tmp, [bin]), E2E_PLAYWRIGHT_ONLY: '1', NODE_OPTIONS: '' },
  });
  assert.equal(stdout.trim().split('\n').pop(), cache);
  const { env, args } = JSON.parse(fs.readFileSync(record, 'utf8')) as { env: Record<string, string>; args: string[] };
  assert.equal(args[0], 'install');
  assert.match(args[args.length - 1], /^playwright-core@\d/);
  // npm's registry/network settings are the machine's and pass (clean-env.sh's list); nothing else of npm's does.
  const leaked = Object.keys(env)
    .filter((k) => /^(npm_|INIT_CWD$|NODE$)/i.test(k))
    .filter((k) => !/^npm_config_(registry|cache|userconfig|globalconfig|cafile|ca|strict_ssl|proxy|https_proxy|noproxy)$/i.test(k));
  assert.deepEqual(leaked, [], 'the outer npm\'s variables reached the inner npm');
  assert.deepEqual([env.npm_config_globalconfig, env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD, env.npm_config_cache, env.HOME],
    ['/etc/machine-npmrc', '1', path.join(tmp, 'npm-cache'), process.env.HOME]);
});
