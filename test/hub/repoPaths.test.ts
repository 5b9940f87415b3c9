import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { parseRepoInfo } from '../../src/hub/hubClient';
import { HubError } from '../../src/hub/hubError';
import { downloadModel } from '../../src/hub/install';
import { assertInside, repoPathProblem } from '../../src/hub/repoPath';
import { FakeHub } from '../fixtures/fakeHub';
import { buildTinyModel } from '../fixtures/tinyModel';

// Issue 12 row 4: a repo's file list is input from the network; none of its paths may leave the install root.
const COMMIT = 'a'.repeat(40);
const listing = (...paths: string[]): unknown => ({ sha: COMMIT, siblings: paths.map((rfilename) => ({ rfilename, size: 1, blobId: 'b'.repeat(40) })) });

const UNSAFE = [
  '../../../evil/unet/model.onnx', 'unet/../../evil.onnx', 'unet/..\\..\\evil.dll', '/etc/passwd', 'C:/evil.dll', 'c:evil',
  'unet//model.onnx', 'unet/./model.onnx', './model_index.json', 'unet/', 'unet/model.onnx\0.txt', '', '..',
  'unet/.. /evil.dll', 'unet/... /x', 'unet/model.onnx:stream', 'unet/model.onnx.',
];

for (const p of UNSAFE) {
  test(`the file list is refused when it names ${JSON.stringify(p)}`, () => {
    assert.notEqual(repoPathProblem(p), undefined);
    assert.throws(() => parseRepoInfo(listing('model_index.json', p), 'o/r', 'main'),
      (e: unknown) => e instanceof HubError && e.kind === 'bad-response' && e.message.includes('unsafe path') && e.message.includes(JSON.stringify(p)));
  });
}

test('ordinary repo paths pass', () => {
  for (const p of ['model_index.json', 'unet/model.onnx', 'onnx/unet/model.onnx_data', 'a..b/c.d', '.gitattributes']) assert.equal(repoPathProblem(p), undefined, p);
  assert.equal(parseRepoInfo(listing('model_index.json', 'unet/model.onnx'), 'o/r', 'main').files.length, 2);
});

test('assertInside: lexical escapes and folders linked out of the root are refused', (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inside-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const root = path.join(tmp, 'root');
  const outside = path.join(tmp, 'outside');
  fs.mkdirSync(root);
  fs.mkdirSync(outside);
  assert.doesNotThrow(() => assertInside(root, path.join(root, 'unet', 'model.onnx'), 'x'));
  assert.throws(() => assertInside(root, path.join(root, '..', 'outside', 'f'), 'x'), /outside/);
  fs.symlinkSync(outside, path.join(root, 'unet'));
  assert.throws(() => assertInside(root, path.join(root, 'unet', 'model.onnx'), 'x'), /outside/);
  assert.throws(() => assertInside(root, path.join(root, 'unet', 'deeper', 'model.onnx'), 'x'), /outside/);
  // the target itself may be a link (it is about to be replaced), its folder may not
  assert.doesNotThrow(() => assertInside(root, path.join(root, 'unet'), 'x'));
});

let hub: FakeHub;
let tmp: string;
const REPO = 'evil/escape';
before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-escape-'));
  const dir = buildTinyModel(path.join(tmp, 'repo'));
  hub = await FakeHub.start([{ repoId: REPO, dir }]);
});
after(async () => {
  await hub.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('a pipeline listed under ../../ is refused before anything is written or deleted (Hugging Face cache layout)', async () => {
  const cache = path.join(tmp, 'deep', 'cache');
  fs.mkdirSync(cache, { recursive: true });
  const victim = path.join(tmp, 'deep', 'x', 'unet', 'model.onnx');
  fs.mkdirSync(path.dirname(victim), { recursive: true });
  fs.writeFileSync(victim, 'precious');
  const real = await (await fetch(`${hub.endpoint}/api/models/${REPO}/revision/main?blobs=true`)).json() as { sha: string; siblings: Array<{ rfilename: string }> };
  const body = JSON.stringify({ ...real, siblings: real.siblings.map((s) => ({ ...s, rfilename: `../../../../x/${s.rfilename}` })) });
  hub.faults.statuses.push({ match: /^\/api\/models\//, status: 200, body });
  await assert.rejects(downloadModel({ repoId: REPO, layout: 'hf-cache', root: cache, client: { endpoint: hub.endpoint, retryDelaysMs: [1] }, freeSpace: async () => 1e12 }),
    (e: unknown) => e instanceof HubError && /unsafe path "\.\.\/\.\.\/\.\.\/\.\.\/x\//.test(e.message));
  assert.equal(fs.readFileSync(victim, 'utf8'), 'precious');
  assert.deepEqual(fs.readdirSync(cache), []);
  assert.equal(hub.requests.filter((r) => r.path.includes('/resolve/')).length, 0);
});
