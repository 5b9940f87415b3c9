import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { fetchFile } from '../../src/hub/fetchFile';
import { HubClient } from '../../src/hub/hubClient';
import { HubError } from '../../src/hub/hubError';
import { ProgressTracker } from '../../src/hub/progress';
import { FakeHub } from '../fixtures/fakeHub';
import { buildTinyModel } from '../fixtures/tinyModel';

// Issue 12 row 5: a server answering 200 with a body shorter than the file. Before the fix, fetchFile asked again
// at once, forever (2,653 requests in 3 s): only thrown errors were counted.
const REPO = 'short/body';
let hub: FakeHub;
let tmp: string;
before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'short-body-'));
  hub = await FakeHub.start([{ repoId: REPO, dir: buildTinyModel(path.join(tmp, 'repo')) }]);
});
after(async () => {
  await hub.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});
afterEach(() => hub.reset());

function fetchOne(repoPath: string, delays: number[], signal: AbortSignal): Promise<void> {
  const client = new HubClient({ endpoint: hub.endpoint, retryDelaysMs: delays });
  const entry = hub.file(REPO, repoPath);
  const file = { path: repoPath, size: entry.size, gitOid: entry.gitOid };
  return fetchFile({
    client, repoId: REPO, url: client.resolveUrl(REPO, 'main', repoPath), file,
    finalPath: path.join(tmp, `out-${Date.now()}-${Math.random()}`, repoPath), tracker: new ProgressTracker(undefined, 250, file.size, 1), signal,
  });
}

test('a 200 answer that is always short ends in a network error after a few requests, not a loop', async () => {
  hub.faults.statuses.push({ match: /\/resolve\/.*model_index\.json$/, status: 200, body: '{"short"' });
  const t0 = performance.now();
  await assert.rejects(fetchOne('model_index.json', [1, 1, 1], AbortSignal.timeout(3000)),
    (e: unknown) => e instanceof HubError && e.kind === 'network' && /ended early/.test(e.message) && /model_index\.json/.test(e.message));
  const requests = hub.fileRequests('model_index.json').length;
  assert.ok(requests <= 6, `${requests} requests`);
  assert.ok(performance.now() - t0 < 3000);
});

test('short answers wait with backoff between requests (the client\'s retry delays)', async () => {
  hub.faults.statuses.push({ match: /\/resolve\/.*model_index\.json$/, status: 200, body: '{"short"' });
  const t0 = performance.now();
  await assert.rejects(fetchOne('model_index.json', [60, 120, 240], AbortSignal.timeout(5000)), (e: unknown) => e instanceof HubError && e.kind === 'network');
  assert.ok(performance.now() - t0 >= 60 + 120, 'waited between the requests');
});

test('a short answer that made progress is resumed with Range and the file completes', async () => {
  // the first answer stops early but cleanly (200 with its own Content-Length); the resume completes it
  const entry = hub.file(REPO, 'model_index.json');
  const whole = fs.readFileSync(entry.abs, 'utf8');
  hub.faults.statuses.push({ match: /\/resolve\/.*model_index\.json$/, status: 200, body: whole.slice(0, 20), times: 1 });
  await fetchOne('model_index.json', [1, 1, 1], AbortSignal.timeout(3000));
  const ranges = hub.fileRequests('model_index.json').map((r) => r.range);
  assert.deepEqual(ranges, [undefined, 'bytes=20-']);
});
