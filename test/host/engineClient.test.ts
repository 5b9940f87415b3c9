import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { cancelAction, EngineClient, EngineClientError } from '../../src/generation/engineClient';
import type { GenerateRequest } from '../../src/protocol/engineMessages';

const fakeEngine = path.resolve(__dirname, '../fixtures/fakeEngine.js');

function request(prompt: string): GenerateRequest {
  return {
    modelDir: '/nowhere', prompt, negativePrompt: '', sampler: null, steps: 2, cfgScale: 7.5, seed: 1, width: 64,
    height: 64, batchSize: 1, initImage: null, strength: 0.75, previews: true, rng: 'cpu', executionProvider: 'cpu', threads: 1,
  };
}

function client(extra: Partial<ConstructorParameters<typeof EngineClient>[0]> = {}): EngineClient {
  return new EngineClient({ enginePath: fakeEngine, cancelGraceMs: 300, startTimeoutMs: 10_000, ...extra });
}

async function rejection(p: Promise<unknown>): Promise<EngineClientError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof EngineClientError, `expected an EngineClientError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

test('forks the engine on the first request and forwards progress then the result', async () => {
  const c = client();
  assert.equal(c.isRunning, false);
  const steps: number[] = [];
  const result = await c.generate(request('ok'), { onProgress: (p) => steps.push(p.step) });
  assert.deepEqual(steps, [1, 2]);
  assert.equal(result.executionProvider, 'cpu');
  assert.equal(c.isRunning, true);
  await c.dispose();
  assert.equal(c.isRunning, false);
});

test('typed arrays survive the IPC channel', async () => {
  const c = client();
  let preview: Uint8Array | undefined;
  await c.generate(request('ok'), { onProgress: (p) => { preview ??= p.previews[0]?.rgb; } });
  assert.ok(preview instanceof Uint8Array);
  assert.deepEqual([...preview], [1, 2, 3]);
  await c.dispose();
});

test('an engine error rejects with its code and message', async () => {
  const c = client();
  const err = await rejection(c.generate(request('fail')));
  assert.equal(err.code, 'model-invalid');
  assert.match(err.message, /unet\/model\.onnx/);
  await c.dispose();
});

test('a cooperative cancel rejects with cancelled and keeps the same engine process', async () => {
  const c = client();
  const pid1 = (await c.generate(request('ok'))).warnings[0];
  const controller = new AbortController();
  const run = c.generate(request('slow'), { signal: controller.signal, onProgress: (p) => { if (p.step === 3) controller.abort(); } });
  assert.equal((await rejection(run)).code, 'cancelled');
  const pid2 = (await c.generate(request('ok'))).warnings[0];
  assert.equal(pid2, pid1);
  await c.dispose();
});

test('a cancel the engine cannot honour kills it, and the next request gets a fresh process', async () => {
  const c = client();
  const run = c.generate(request('hang'), { onProgress: () => c.cancel() });
  const started = Date.now();
  assert.equal((await rejection(run)).code, 'cancelled');
  assert.ok(Date.now() - started < 5000);
  const again = await c.generate(request('ok'));
  assert.equal(again.type, 'result');
  await c.dispose();
});

test('cancel during a step expected to run on for seconds kills the engine at once (no grace period waited)', async () => {
  const logs: string[] = [];
  const c = client({ cancelGraceMs: 20_000, onLog: (_l, m) => logs.push(m) });
  let started = 0;
  const run = c.generate(request('bigstep'), { onProgress: () => { started = Date.now(); c.cancel(); } });
  assert.equal((await rejection(run)).code, 'cancelled');
  assert.ok(Date.now() - started < 2000, `${Date.now() - started} ms`);
  assert.ok(logs.some((m) => /cancelled mid-step/.test(m)), logs.join('\n'));
  assert.equal((await c.generate(request('ok'))).type, 'result');
  await c.dispose();
});

test('after a cancel killed the engine, a new engine process loads the cancelled request\'s model at once (preload), and the next generation runs there', async () => {
  const logs: string[] = [];
  const c = client({ cancelGraceMs: 20_000, onLog: (_l, m) => logs.push(m) });
  let firstPid: string | undefined;
  const run = c.generate(request('bigstep'), { onProgress: () => { firstPid = String(c.pid); c.cancel(); } });
  assert.equal((await rejection(run)).code, 'cancelled');
  for (let i = 0; i < 200 && !logs.some((m) => /model loaded again in \d+ ms/.test(m)); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(logs.some((m) => /model loaded again in \d+ ms/.test(m)), logs.join('\n'));
  const next = await c.generate(request('ok'));
  assert.ok(next.type === 'result' && next.warnings.includes('preloaded bigstep'), JSON.stringify(next));
  assert.ok(!next.warnings.includes(`pid ${firstPid}`), 'a new process');
  await c.dispose();
});

test('no preload after a kill when preloadAfterKill is false, nor after a cooperative cancel; a failed preload is only logged', async () => {
  const logs: string[] = [];
  const off = client({ cancelGraceMs: 20_000, preloadAfterKill: false, onLog: (_l, m) => logs.push(m) });
  assert.equal((await rejection(off.generate(request('bigstep'), { onProgress: () => off.cancel() }))).code, 'cancelled');
  const after = await off.generate(request('ok'));
  assert.ok(after.type === 'result' && !after.warnings.some((w) => w.startsWith('preloaded')), JSON.stringify(after));
  const slow = off.generate(request('slow'), { onProgress: () => off.cancel() });
  assert.equal((await rejection(slow)).code, 'cancelled');
  await off.dispose();

  const c = client();
  const failed = await c.preload(request('fail'));
  assert.match(failed.error ?? '', /not an ONNX model/);
  assert.equal((await c.preload(request('ok'))).error, undefined);
  await c.dispose();
  assert.match((await c.preload(request('ok')).catch((e: Error) => ({ error: e.message }))).error ?? '', /disposed/);
});

test('the engine process gets glibc\'s MALLOC_MMAP_THRESHOLD_ at 4 MiB (large allocations go back to the system when freed), unless the user set one', async () => {
  const c = client({ env: { ...process.env, MALLOC_MMAP_THRESHOLD_: undefined } });
  const r = await c.generate(request('ok'));
  assert.ok(r.type === 'result' && r.warnings.includes('MALLOC_MMAP_THRESHOLD_=4194304'), JSON.stringify(r.warnings));
  await c.dispose();
  const own = client({ env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '65536' } });
  const r2 = await own.generate(request('ok'));
  assert.ok(r2.type === 'result' && r2.warnings.includes('MALLOC_MMAP_THRESHOLD_=65536'), JSON.stringify(r2.warnings));
  await own.dispose();
});

test('a second cancel kills at once, even where the first waits for the step to end', async () => {
  const c = client({ cancelGraceMs: 20_000 });
  let started = 0;
  // "hang" reports a 1 ms step: the first cancel asks the engine to stop after its step (which never ends)
  const run = c.generate(request('hang'), { onProgress: () => { started = Date.now(); c.cancel(); setTimeout(() => c.cancel(), 100); } });
  assert.equal((await rejection(run)).code, 'cancelled');
  assert.ok(Date.now() - started < 2000, `${Date.now() - started} ms`);
  await c.dispose();
});

test('cancelAction: kill when the running step has more than the threshold left, or on a second cancel', () => {
  assert.equal(cancelAction(undefined, 0, false, 1000), 'cooperate');
  assert.equal(cancelAction({ atMs: 0, stepMs: 9000 }, 1000, false, 1000), 'kill');
  assert.equal(cancelAction({ atMs: 0, stepMs: 9000 }, 8500, false, 1000), 'cooperate');
  assert.equal(cancelAction({ atMs: 0, stepMs: 50 }, 10, false, 1000), 'cooperate');
  assert.equal(cancelAction({ atMs: 0, stepMs: 50 }, 10, true, 1000), 'kill');
});

test('a crash rejects the running request with the stderr tail and the client restarts on the next one', async () => {
  const crashes: string[] = [];
  const c = client({ onCrash: (d) => crashes.push(d) });
  const err = await rejection(c.generate(request('crash')));
  assert.equal(err.code, 'crashed');
  assert.match(err.message, /exit code 3/);
  assert.match(err.message, /something broke/);
  assert.equal(crashes.length, 1);
  assert.equal((await c.generate(request('ok'))).type, 'result');
  await c.dispose();
});

test('requests run one at a time and a queued one can be cancelled before it starts', async () => {
  const c = client();
  const first = c.generate(request('slow'));
  const controller = new AbortController();
  const second = c.generate(request('ok'), { signal: controller.signal });
  await new Promise((r) => setTimeout(r, 100));
  controller.abort();
  assert.equal((await rejection(second)).code, 'cancelled');
  c.cancel();
  assert.equal((await rejection(first)).code, 'cancelled');
  await c.dispose();
});

test('after dispose, generate rejects with disposed', async () => {
  const c = client();
  await c.generate(request('ok'));
  await c.dispose();
  assert.equal((await rejection(c.generate(request('ok')))).code, 'disposed');
});

test('an engine that cannot start is reported as start-failed', async () => {
  const c = client({ enginePath: path.resolve(__dirname, '../fixtures/does-not-exist.js') });
  const err = await rejection(c.generate(request('ok')));
  assert.equal(err.code, 'start-failed');
  await c.dispose();
});

test('the engine runs below normal priority unless asked otherwise', async () => {
  const os = await import('node:os');
  const low = client();
  await low.generate(request('ok'));
  assert.equal(os.getPriority(low.pid), os.constants.priority.PRIORITY_BELOW_NORMAL);
  await low.dispose();
  const normal = client({ lowPriority: false });
  await normal.generate(request('ok'));
  assert.equal(os.getPriority(normal.pid), os.getPriority());
  await normal.dispose();
});

test('counts tokens beside generations: the answer, or the engine\'s error, comes back by id', async () => {
  const c = client();
  const [counts, generated] = await Promise.all([c.countTokens('/m', 'abc', 'de', 20), c.generate(request('ok'))]);
  assert.deepEqual([counts.prompt, counts.negativePrompt, generated.type], [{ tokens: 3, limit: 75 }, { tokens: 2, limit: 75 }, 'result']);
  const err = await rejection(c.countTokens('/m', 'fail', '', 20));
  assert.deepEqual([err.code, err.message], ['model-invalid', 'no tokenizer']);
  await c.dispose();
});
