import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

// Issue 12 row 6: several windows finding one stale lock at the same moment. Before the fix, two takers both
// held it in 11 of 25 trials and others failed with a raw EEXIST.
const TAKERS = 4;
const TRIALS = 20;

test(`${TAKERS} processes taking over one stale lock at the same moment: never two at once, the others are told "busy"`, { timeout: 120_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lock-takeover-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  // stale locks: their process (pid 2^22 + 1 exceeds pid_max's default) is not running
  for (let k = 0; k < TRIALS; k++) {
    fs.writeFileSync(path.join(dir, `lock-${k}`), JSON.stringify({ pid: 4_194_305, host: os.hostname(), repo: 'o/r', startedAt: 'then' }));
  }
  const start = Date.now() + 4000; // time for the children to load
  const taker = path.join(__dirname, 'lockTaker.ts');
  const outputs = await Promise.all(Array.from({ length: TAKERS }, () => new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', taker, dir, String(start), String(TRIALS), '400', '250'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('error', reject);
    child.once('exit', () => resolve(out));
  })));
  const results = outputs.flatMap((o) => o.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { k: number; result: string; from: number; to: number }));
  assert.equal(results.length, TAKERS * TRIALS, 'every taker reported every trial');
  const bad: string[] = [];
  let contended = 0;
  for (let k = 0; k < TRIALS; k++) {
    const of = results.filter((r) => r.k === k);
    const errors = of.filter((r) => r.result !== 'held' && r.result !== 'busy');
    if (errors.length > 0) bad.push(`trial ${k}: ${errors.map((r) => r.result).join(', ')}`);
    // a taker arriving after the holder let go may hold it next (a loaded machine starts them late): never two at once
    const holds = of.filter((r) => r.result === 'held').sort((a, b) => a.from - b.from);
    for (let i = 1; i < holds.length; i++) {
      if (holds[i].from < holds[i - 1].to) bad.push(`trial ${k}: two holders at once (${holds[i - 1].from}–${holds[i - 1].to} and ${holds[i].from}–${holds[i].to})`);
    }
    if (holds.length === 0) bad.push(`trial ${k}: nobody took the stale lock`);
    if (of.some((r) => r.result === 'busy')) contended++;
  }
  assert.deepEqual(bad, []);
  assert.ok(contended >= TRIALS / 2, `only ${contended} of ${TRIALS} trials had takers at the same moment`);
});
