import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { GenerateRequest } from '../../src/protocol/engineMessages';
import type { PanelParams } from '../../src/protocol/webviewMessages';
import { EngineClient, EngineClientError, type ProgressMessage, type ResultMessage } from '../../src/generation/engineClient';
import { GenerationService, type EngineLike, type JobOutcome, type ProgressEvent } from '../../src/generation/generationService';
import { formatProgress } from '../../src/generation/progressMeter';

const params: PanelParams = {
  prompt: 'ok', negativePrompt: '', sampler: 'default', steps: 2, cfgScale: 7.5, seed: 5, randomSeed: false,
  width: 64, height: 64, batchCount: 1, model: '/m',
};

function request(prompt: string, seed: number): GenerateRequest {
  return {
    modelDir: '/nowhere', prompt, negativePrompt: '', sampler: null, steps: 2, cfgScale: 7.5, seed, width: 64, height: 64,
    batchSize: 1, initImage: null, strength: 0.75, previews: true, rng: 'cpu', executionProvider: 'cpu', threads: 1,
  };
}

/** An engine that answers each request after `steps` progress events, recording what it was asked. */
class FakeEngine implements EngineLike {
  readonly calls: string[] = [];
  private gates: Array<() => void> = [];

  constructor(private readonly manual = false) {}

  /** Lets the oldest waiting generation finish (manual mode). */
  release(): void {
    this.gates.shift()?.();
  }

  async generate(r: GenerateRequest, opts: { onProgress?: (p: ProgressMessage) => void; signal?: AbortSignal }): Promise<ResultMessage> {
    this.calls.push(`${r.prompt}#${r.seed}`);
    if (this.manual) {
      await new Promise<void>((resolve, reject) => {
        this.gates.push(resolve);
        opts.signal?.addEventListener('abort', () => {
          this.gates = this.gates.filter((g) => g !== resolve);
          reject(new EngineClientError('cancelled', 'cancelled'));
        }, { once: true });
      });
    }
    for (let step = 1; step <= 2; step++) {
      opts.onProgress?.({ type: 'progress', id: 1, step, totalSteps: 2, stepMs: 100, previews: [{ width: 1, height: 1, rgb: Uint8Array.of(step, 0, 0) }] });
    }
    if (r.prompt === 'fail') throw new EngineClientError('model-invalid', 'unet/model.onnx: not an ONNX model');
    return {
      type: 'result', id: 1, executionProvider: 'cpu', warnings: [],
      timingsMs: { load: 0, textEncoder: 0, unet: 0, unetSteps: [], vae: 0, png: 0, total: 0 },
      images: [{ seed: r.seed, width: 64, height: 64, png: Uint8Array.of(r.seed), infotext: `${r.prompt}\nSeed: ${r.seed}` }],
    };
  }
}

test('a batch count runs one request per image and reports progress with image index, it/s and ETA', async () => {
  const engine = new FakeEngine();
  const service = new GenerationService(engine);
  const progress: ProgressEvent[] = [];
  service.onProgress((p) => progress.push(p));
  const job = service.enqueue({ source: 'panel', params: { ...params, batchCount: 2 }, requests: [request('ok', 5), request('ok', 6)] });
  const outcome = await job.done;
  assert.equal(outcome.status, 'finished');
  assert.deepEqual(outcome.images.map((im) => [im.params.seed, im.params.batchCount, im.image.seed, im.source]), [[5, 1, 5, 'panel'], [6, 1, 6, 'panel']]);
  assert.deepEqual(progress.map((p) => formatProgress(p)), [
    'image 1/2 · step 1/2 · 10.0 it/s · ETA 0s', 'image 1/2 · step 2/2 · 10.0 it/s · ETA 0s',
    'image 2/2 · step 1/2 · 10.0 it/s · ETA 0s', 'image 2/2 · step 2/2 · 10.0 it/s · ETA 0s',
  ]);
  assert.deepEqual(progress.map((p) => p.etaMs), [300, 200, 100, 0]);
  assert.equal(service.getImage(outcome.images[1].imageId), outcome.images[1]);
  service.dispose();
});

test('jobs queue behind the running one, visibly, and run in order', async () => {
  const engine = new FakeEngine(true);
  const service = new GenerationService(engine);
  const first = service.enqueue({ source: 'panel', params, requests: [request('first', 1)] });
  const second = service.enqueue({ source: 'altText', params, requests: [request('second', 2)] });
  assert.deepEqual([service.queue.map((j) => [j.jobId, j.source, j.prompt]), service.runningJobId], [[[1, 'panel', 'ok'], [2, 'altText', 'ok']], 1]);
  engine.release();
  await first.done;
  await new Promise((r) => setImmediate(r));
  assert.equal(service.runningJobId, 2);
  engine.release();
  assert.equal((await second.done).status, 'finished');
  assert.deepEqual(engine.calls, ['first#1', 'second#2']);
  assert.deepEqual(service.queue, []);
  service.dispose();
});

test('cancelling a queued job drops it; cancelling the running one ends it as cancelled; the next still runs', async () => {
  const engine = new FakeEngine(true);
  const service = new GenerationService(engine);
  const ended: Array<[number, string]> = [];
  service.onJobEnded(({ job, outcome }) => ended.push([job.id, outcome.status]));
  const a = service.enqueue({ source: 'panel', params, requests: [request('a', 1)] });
  const b = service.enqueue({ source: 'panel', params, requests: [request('b', 2)] });
  const c = service.enqueue({ source: 'panel', params, requests: [request('c', 3)] });
  service.cancel(b.id);
  service.cancel(a.id);
  const outcomes: JobOutcome[] = [await a.done, await b.done];
  await new Promise((r) => setImmediate(r));
  engine.release();
  outcomes.push(await c.done);
  assert.deepEqual(outcomes.map((o) => o.status), ['cancelled', 'cancelled', 'finished']);
  assert.deepEqual(engine.calls, ['a#1', 'c#3']);
  assert.deepEqual(ended, [[2, 'cancelled'], [1, 'cancelled'], [3, 'finished']]);
  service.dispose();
});

test('a second Cancel of the running job asks the engine client again (which then stops the engine at once)', async () => {
  // an engine still in its step after the first cancel: it ends only when cancel() reaches it
  let stop: ((e: Error) => void) | undefined;
  let cancels = 0;
  const engine: EngineLike = {
    generate: () => new Promise<ResultMessage>((_resolve, reject) => { stop = reject; }),
    cancel: () => { cancels++; stop?.(new EngineClientError('cancelled', 'cancelled (the engine was stopped)')); },
  };
  const service = new GenerationService(engine);
  const a = service.enqueue({ source: 'panel', params, requests: [request('a', 1)] });
  await new Promise((r) => setImmediate(r));
  service.cancel(a.id);
  await new Promise((r) => setImmediate(r));
  assert.equal(cancels, 0, 'the first Cancel goes through the request\'s signal');
  service.cancel(a.id);
  assert.equal(cancels, 1);
  assert.equal((await a.done).status, 'cancelled');
  service.dispose();
});

test('an engine error fails the job with the engine\'s message', async () => {
  const service = new GenerationService(new FakeEngine());
  const outcome = await service.enqueue({ source: 'panel', params, requests: [request('fail', 1)] }).done;
  assert.deepEqual([outcome.status, outcome.status === 'failed' && outcome.error.message], ['failed', 'unet/model.onnx: not an ONNX model']);
  service.dispose();
});

test('with the real EngineClient: a crash fails the job as "crashed", and the next generation works in a fresh engine', async () => {
  const client = new EngineClient({ enginePath: path.resolve(__dirname, '../fixtures/fakeEngine.js'), startTimeoutMs: 10_000 });
  const service = new GenerationService(client);
  try {
    const crashed = await service.enqueue({ source: 'panel', params, requests: [request('crash', 1)] }).done;
    assert.equal(crashed.status, 'failed');
    assert.equal(crashed.status === 'failed' && (crashed.error as EngineClientError).code, 'crashed');
    const progress: number[] = [];
    service.onProgress((p) => progress.push(p.step));
    const next = await service.enqueue({ source: 'panel', params, requests: [request('ok', 2)] }).done;
    assert.deepEqual([next.status, progress], ['finished', [1, 2]]);
  } finally {
    service.dispose();
    await client.dispose();
  }
});

test('a listener that throws does not break the job or the other listeners', async () => {
  const service = new GenerationService(new FakeEngine());
  const steps: number[] = [];
  const originalError = console.error;
  console.error = () => undefined;
  try {
    service.onProgress(() => { throw new Error('a broken listener'); });
    service.onProgress((p) => steps.push(p.step));
    const outcome = await service.enqueue({ source: 'panel', params, requests: [request('ok', 1)] }).done;
    assert.deepEqual([outcome.status, steps], ['finished', [1, 2]]);
  } finally {
    console.error = originalError;
    service.dispose();
  }
});
