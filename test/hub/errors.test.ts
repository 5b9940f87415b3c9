import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { downloadModel, type DownloadModelOptions } from '../../src/hub/install';
import { DEFAULT_ENDPOINT, HubClient, parseRepoId } from '../../src/hub/hubClient';
import { HubError, REDACTED, redactToken } from '../../src/hub/hubError';
import { buildTinyModel } from '../fixtures/tinyModel';
import { FakeHub } from '../fixtures/fakeHub';

const REPO = 'test-org/tiny-sd-onnx';
const GATED = 'gated-org/licensed-model';
const TOKEN = 'hf_SECRETtoken1234567890';
let root: string;
let hub: FakeHub;
let n = 0;

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-errors-'));
  const dir = buildTinyModel(path.join(root, 'repo'), {});
  const torchOnly = path.join(root, 'torch');
  fs.mkdirSync(path.join(torchOnly, 'unet'), { recursive: true });
  fs.writeFileSync(path.join(torchOnly, 'model_index.json'), '{}');
  fs.writeFileSync(path.join(torchOnly, 'unet', 'diffusion_pytorch_model.safetensors'), Buffer.alloc(100));
  hub = await FakeHub.start([
    { repoId: REPO, dir }, { repoId: GATED, dir, requiredToken: TOKEN }, { repoId: 'someone/torch-only', dir: torchOnly },
  ]);
});
after(async () => {
  await hub.close();
  fs.rmSync(root, { recursive: true, force: true });
});
afterEach(() => hub.reset());

function options(extra: Partial<DownloadModelOptions> = {}, token?: string, log?: (m: string) => void): DownloadModelOptions {
  return {
    repoId: REPO, layout: 'global', root: fs.mkdtempSync(path.join(root, `install-${n++}-`)),
    client: { endpoint: hub.endpoint, retryDelaysMs: [1, 1, 1], token, log }, freeSpace: async () => 1e12, ...extra,
  };
}

async function failure(p: Promise<unknown>): Promise<HubError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof HubError, `expected a HubError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the download to fail');
}

test('an unknown repo is "repo or file not found" (404)', async () => {
  const e = await failure(downloadModel(options({ repoId: 'nobody/nothing' })));
  assert.deepEqual([e.kind, e.status], ['not-found', 404]);
  assert.match(e.message, /^nobody\/nothing@main: repo or file not found on http:\/\/127\.0\.0\.1:\d+ \(HTTP 404\) \(the Hub says: Repository nobody\/nothing not found\)$/);
});

test('an unknown revision and a missing file say which one', async () => {
  const rev = await failure(downloadModel(options({ revision: 'v9' })));
  assert.match(rev.message, /^test-org\/tiny-sd-onnx@v9: revision not found .*HTTP 404/);
  hub.faults.statuses.push({ match: /resolve\/.*\/unet\/config\.json$/, status: 404, headers: { 'x-error-code': 'EntryNotFound' } });
  const file = await failure(downloadModel(options()));
  assert.deepEqual([file.kind, file.message.split(':')[0]], ['not-found', 'test-org/tiny-sd-onnx/unet/config.json']);
  assert.match(file.message, /file not found/);
});

test('a gated repo without a token says to give one and to accept the licence, naming the page', async () => {
  const e = await failure(downloadModel(options({ repoId: GATED })));
  assert.deepEqual([e.kind, e.status], ['needs-token', 401]);
  assert.ok(e.message.includes(`it needs a Hugging Face access token`), e.message);
  assert.ok(e.message.includes(`accept the licence at ${hub.endpoint}/${GATED} while logged in`), e.message);
});

test('403 with a token says the token is not allowed and where to accept the licence', async () => {
  hub.faults.statuses.push({ match: /\/api\/models\//, status: 403, headers: { 'x-error-code': 'GatedRepo' } });
  const e = await failure(downloadModel(options({}, TOKEN)));
  assert.equal(e.kind, 'needs-token');
  assert.match(e.message, /access denied \(HTTP 403\): the token given is not allowed to read it; if the repo is gated, accept the licence at http:\/\/127\.0\.0\.1:\d+\/test-org\/tiny-sd-onnx/);
});

test('the token goes to the Hub as a Bearer header, never to the CDN it redirects to', async () => {
  const model = await downloadModel(options({ repoId: GATED }, TOKEN));
  assert.ok(fs.existsSync(path.join(model.dir, 'unet', 'model.onnx')));
  const hubReqs = hub.requests.filter((r) => r.server === 'hub');
  const cdnReqs = hub.requests.filter((r) => r.server === 'cdn');
  assert.ok(hubReqs.length > 5 && cdnReqs.length >= 4);
  assert.ok(hubReqs.every((r) => r.authorization === `Bearer ${TOKEN}`));
  assert.ok(cdnReqs.every((r) => r.authorization === undefined));
});

test('the token never appears in an error or a log line, even when the server echoes it', async () => {
  const logs: string[] = [];
  hub.faults.statuses.push({ match: /\/api\/models\//, status: 500, body: '{"error":"internal error for $AUTH"}' });
  const e = await failure(downloadModel(options({}, TOKEN, (m) => logs.push(m))));
  assert.equal(e.kind, 'server');
  assert.ok(e.message.includes(`internal error for Bearer ${REDACTED}`), e.message);
  assert.ok(!e.message.includes(TOKEN) && !String(e.stack).includes(TOKEN));
  hub.faults.statuses.length = 0;
  hub.faults.statuses.push({ match: /\/api\/models\//, status: 401, headers: { 'x-error-message': `bad token ${TOKEN}` } });
  const e401 = await failure(downloadModel(options({}, TOKEN, (m) => logs.push(m))));
  assert.ok(!e401.message.includes(TOKEN) && e401.message.includes(`bad token ${REDACTED}`), e401.message);
  assert.equal(redactToken(`a ${TOKEN} b ${TOKEN}`, TOKEN), `a ${REDACTED} b ${REDACTED}`);
  assert.ok(logs.length >= 3 && logs.every((l) => !l.includes(TOKEN)));
});

test('5xx answers are retried with backoff; persistent ones end in a clear error after every attempt', async () => {
  hub.faults.statuses.push({ match: /\/api\/models\//, status: 503, times: 2 });
  const model = await downloadModel(options());
  assert.ok(fs.existsSync(model.dir));
  assert.equal(hub.requests.filter((r) => r.path.startsWith('/api/models/')).length, 3);
  hub.requests.length = 0;
  hub.faults.statuses.push({ match: /resolve\/.*\/model_index\.json$/, status: 500 });
  const e = await failure(downloadModel(options()));
  assert.deepEqual([e.kind, e.status], ['server', 500]);
  assert.match(e.message, /^test-org\/tiny-sd-onnx\/model_index\.json: the Hub answered HTTP 500 \(server error\) 4 times; try again later/);
  assert.equal(hub.fileRequests('model_index.json').length, 4);
});

test('429 is retried (honouring Retry-After) and then reported as rate limiting', async () => {
  hub.faults.statuses.push({ match: /\/api\/models\//, status: 429, times: 1, headers: { 'retry-after': '0' } });
  await downloadModel(options());
  hub.faults.statuses.push({ match: /\/api\/models\//, status: 429 });
  const e = await failure(downloadModel(options()));
  assert.equal(e.kind, 'rate-limited');
  assert.match(e.message, /too many requests" \(HTTP 429\) after 4 attempts/);
});

test('a connection that cannot be made is a network error after the retries', async () => {
  const e = await failure(downloadModel(options({ client: { endpoint: 'http://127.0.0.1:1', retryDelaysMs: [1] } })));
  assert.equal(e.kind, 'network');
  assert.match(e.message, /^Could not reach http:\/\/127\.0\.0\.1:1 for test-org\/tiny-sd-onnx@main after 2 attempts: fetch failed/);
});

test('a CDN that cannot be reached is named in the error, not the Hub', async () => {
  hub.faults.statuses.push({ match: /resolve\/.*\/model_index\.json$/, status: 302, headers: { location: 'http://127.0.0.1:1/blob' } });
  const e = await failure(downloadModel(options()));
  assert.equal(e.kind, 'network');
  assert.match(e.message, /^Could not reach http:\/\/127\.0\.0\.1:1 for test-org\/tiny-sd-onnx\/model_index\.json after 4 attempts: fetch failed/);
});

test('a repo without an ONNX pipeline says what it holds instead', async () => {
  const e = await failure(downloadModel(options({ repoId: 'someone/torch-only' })));
  assert.equal(e.kind, 'not-a-pipeline');
  assert.match(e.message, /someone\/torch-only holds no diffusers ONNX pipeline: it holds PyTorch weights only .*an ONNX export \(e\.g\. with Optimum\) is needed/);
  assert.equal(hub.requests.filter((r) => r.path.includes('/resolve/')).length, 0, 'nothing downloaded');
});

test('HF_ENDPOINT is honoured, else huggingface.co', () => {
  const saved = process.env.HF_ENDPOINT;
  try {
    process.env.HF_ENDPOINT = 'https://hf-mirror.example/';
    assert.equal(new HubClient().endpoint, 'https://hf-mirror.example');
    assert.equal(new HubClient().resolveUrl('a/b', 'refs/pr/1', 'unet/model file.onnx'), 'https://hf-mirror.example/a/b/resolve/refs%2Fpr%2F1/unet/model%20file.onnx');
    delete process.env.HF_ENDPOINT;
    assert.equal(new HubClient().endpoint, DEFAULT_ENDPOINT);
    assert.equal(DEFAULT_ENDPOINT, 'https://huggingface.co');
  } finally {
    if (saved === undefined) delete process.env.HF_ENDPOINT;
    else process.env.HF_ENDPOINT = saved;
  }
});

test('repo ids: owner/name or a Hub URL; anything else is refused with the expected form', () => {
  assert.equal(parseRepoId(' onnx-community/stable-diffusion-v1-5-ONNX '), 'onnx-community/stable-diffusion-v1-5-ONNX');
  assert.equal(parseRepoId('https://huggingface.co/schmuell/sd-turbo-ort-web/tree/main'), 'schmuell/sd-turbo-ort-web');
  for (const bad of ['', 'a/b/c', '../etc', 'a/b c', 'owner--x/name']) {
    assert.throws(() => parseRepoId(bad), /is not a Hugging Face repo id: expected "owner\/name"/);
  }
});
