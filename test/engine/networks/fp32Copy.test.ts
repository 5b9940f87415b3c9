/**
 * fp32 copies of fp16 graphs for the CPU (src/engine/networks/fp32Copy.ts, fp32Cache.ts): each TensorProto storage form
 * converted on a hand-built graph that ONNX Runtime runs before and after; the cache reused, rebuilt when the source
 * changes or the copy is damaged; the decision by provider.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { concat, encodeVarint, lengthDelimited } from '../../../src/engine/model';
import { float16ToFloat32, float32ToFloat16 } from '../../../src/engine/onnx';
import { createSession, nextProvider } from '../../../src/engine/onnx/session';
import { fp32CopyOf, isFp16Graph, wantsFp32Copy, writeFp32Copy } from '../../../src/engine/networks';

const N = 512; // 1024 bytes of fp16: the raw initializer is moved to the copy's data file, the Constant stays inline
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (num: number, s: string): Uint8Array => lengthDelimited(num, utf8(s));
const int = (num: number, v: number): Uint8Array => new Uint8Array([...encodeVarint(num * 8), ...encodeVarint(v)]);
const half = (values: number[]): Uint8Array => new Uint8Array(float32ToFloat16(Float32Array.from(values)).buffer);

type Data = { raw: Uint8Array } | { int32: number[] } | { external: { location: string; offset: number; length: number } };
function tensor(name: string, dims: number[], type: number, data: Data): Uint8Array {
  const parts = [...dims.map((d) => int(1, d)), int(2, type), str(8, name)];
  if ('raw' in data) parts.push(lengthDelimited(9, data.raw));
  else if ('int32' in data) parts.push(lengthDelimited(5, new Uint8Array(data.int32.flatMap((v) => encodeVarint(v)))));
  else {
    const e = data.external;
    for (const [k, v] of [['location', e.location], ['offset', String(e.offset)], ['length', String(e.length)]]) {
      parts.push(lengthDelimited(13, concat([str(1, k), str(2, v)])));
    }
    parts.push(int(14, 1));
  }
  return concat(parts);
}
const valueInfo = (name: string, type: number, dims: number[]): Uint8Array => concat([str(1, name), lengthDelimited(2, lengthDelimited(1,
  concat([int(1, type), lengthDelimited(2, concat(dims.map((d) => lengthDelimited(1, int(1, d)))))])))]);
function node(op: string, inputs: string[], outputs: string[], attrs: Uint8Array[] = []): Uint8Array {
  return concat([...inputs.map((i) => str(1, i)), ...outputs.map((o) => str(2, o)), str(3, `${op}_${outputs[0]}`), str(4, op),
    ...attrs.map((a) => lengthDelimited(5, a))]);
}
const intAttr = (name: string, v: number): Uint8Array => concat([str(1, name), int(3, v), int(20, 2)]);
const tensorAttr = (name: string, t: Uint8Array): Uint8Array => concat([str(1, name), lengthDelimited(5, t), int(20, 4)]);

// Values exact in fp16 through every operation, so the fp16 graph and its fp32 copy give the same numbers.
const A = Array.from({ length: N }, (_, i) => (i % 17) - 8);
const B = Array.from({ length: N }, (_, i) => [0.5, 1, 2][i % 3]);
const C = Array.from({ length: N }, (_, i) => (i % 5) - 2);
const X = Array.from({ length: N }, (_, i) => (i % 11) - 5);
const expected = X.map((x, i) => ((x + A[i]) * B[i] + C[i]) * 0.5 + 0.25);

/** y = Cast16(Cast32(((x + A) · B + C) · k + ConstantOfShape([N], 0.25))): A raw, B int32_data, C external, k Constant. */
function writeFp16Graph(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.concat([Buffer.alloc(64), half(C)]));
  const bits = Array.from(float32ToFloat16(Float32Array.from(B)));
  const graph = concat([
    lengthDelimited(1, node('Add', ['x', 'A'], ['y1'])),
    lengthDelimited(1, node('Mul', ['y1', 'B'], ['y2'])),
    lengthDelimited(1, node('Add', ['y2', 'C'], ['y3'])),
    lengthDelimited(1, node('Constant', [], ['k'], [tensorAttr('value', tensor('k', [1], 10, { raw: half([0.5]) }))])),
    lengthDelimited(1, node('Mul', ['y3', 'k'], ['y4'])),
    lengthDelimited(1, node('Constant', [], ['shape'], [tensorAttr('value', tensor('shape', [1], 7, { raw: new Uint8Array(new BigInt64Array([BigInt(N)]).buffer) }))])),
    lengthDelimited(1, node('ConstantOfShape', ['shape'], ['z'], [tensorAttr('value', tensor('v', [1], 10, { raw: half([0.25]) }))])),
    lengthDelimited(1, node('Add', ['y4', 'z'], ['y5'])),
    lengthDelimited(1, node('Cast', ['y5'], ['c32'], [intAttr('to', 1)])),
    lengthDelimited(1, node('Cast', ['c32'], ['y'], [intAttr('to', 10)])),
    str(2, 'g'),
    lengthDelimited(5, tensor('A', [N], 10, { raw: half(A) })),
    lengthDelimited(5, tensor('B', [N], 10, { int32: bits })),
    lengthDelimited(5, tensor('C', [N], 10, { external: { location: 'weights.bin', offset: 64, length: 2 * N } })),
    lengthDelimited(11, valueInfo('x', 10, [N])),
    lengthDelimited(12, valueInfo('y', 10, [N])),
    lengthDelimited(13, valueInfo('y3', 10, [N])),
  ]);
  const model = concat([int(1, 8), lengthDelimited(7, graph), lengthDelimited(8, concat([str(1, ''), int(2, 17)]))]);
  const file = path.join(dir, 'model.onnx');
  fs.writeFileSync(file, model);
  return file;
}

let root: string;
before(() => { root = fs.mkdtempSync(path.join(os.tmpdir(), 'fp32-copy-')); });
after(() => fs.rmSync(root, { recursive: true, force: true }));

async function runGraph(file: string): Promise<{ type: string; values: Float32Array; inputType: string }> {
  const session = await createSession(file, { executionProvider: 'cpu', threads: 1 });
  try {
    const input = session.input('x')!;
    const feed = input.type === 'float16'
      ? { type: 'float16' as const, data: float32ToFloat16(Float32Array.from(X)), dims: [N] }
      : { type: 'float32' as const, data: Float32Array.from(X), dims: [N] };
    const out = (await session.run({ x: feed })).y;
    const values = out.type === 'float16' ? float16ToFloat32(out.data as Uint16Array) : out.data as Float32Array;
    return { type: out.type, values, inputType: input.type };
  } finally {
    await session.release();
  }
}

describe('writeFp32Copy', () => {
  test('raw_data, int32_data, external data, Constant, ConstantOfShape and Cast: the copy runs in fp32 and gives the same values', async () => {
    const source = writeFp16Graph(path.join(root, 'graph'));
    const before16 = fs.readFileSync(source);
    const fp16 = await runGraph(source);
    assert.deepEqual(Array.from(fp16.values), expected);
    const destDir = path.join(root, 'copy');
    fs.mkdirSync(destDir);
    const dest = path.join(destDir, 'model.onnx');
    const stats = await writeFp32Copy(new Uint8Array(before16), source, dest);
    // A, B, C, the Constant k and ConstantOfShape's value; Cast to, x, y and y3's elem_type
    assert.deepEqual([stats.tensors, stats.types], [5, 4]);
    assert.deepEqual(fs.readdirSync(destDir).sort(), ['model.onnx', 'model.onnx.data']);
    assert.ok(stats.dataBytes >= 3 * 4 * N, `${stats.dataBytes} bytes of data`); // A, B, C in fp32, page-aligned
    assert.equal(isFp16Graph(before16), true);
    assert.equal(isFp16Graph(fs.readFileSync(dest)), false);
    const fp32 = await runGraph(dest);
    assert.deepEqual([fp32.inputType, fp32.type], ['float32', 'float32']);
    assert.deepEqual(Array.from(fp32.values), expected);
    assert.deepEqual(fs.readFileSync(source), before16, 'the source graph is not changed');
  });

  test('a truncated external data file is refused with the tensor named', async () => {
    const source = writeFp16Graph(path.join(root, 'short'));
    fs.truncateSync(path.join(root, 'short', 'weights.bin'), 100);
    await assert.rejects(writeFp32Copy(new Uint8Array(fs.readFileSync(source)), source, path.join(root, 'short', 'out.onnx')),
      /C: external data "weights.bin" ends before byte/);
  });
});

describe('fp32CopyOf (the cache)', () => {
  test('made once, reused, rebuilt when the source changes or the copy is damaged; fp32 sources are left as they are', async () => {
    const source = writeFp16Graph(path.join(root, 'model', 'unet'));
    const cacheDir = path.join(root, 'cache');
    const first = await fp32CopyOf({ source, cacheDir });
    assert.equal(first.kind, 'copy');
    if (first.kind !== 'copy') return;
    assert.equal(first.built, true);
    const written = fs.statSync(`${first.file}.data`).mtimeMs;
    const second = await fp32CopyOf({ source, cacheDir });
    assert.deepEqual(second.kind === 'copy' && [second.file, second.built], [first.file, false]);
    assert.equal(fs.statSync(`${first.file}.data`).mtimeMs, written, 'the second load does not rewrite the copy');

    // the source changed (size and mtime): made again
    fs.appendFileSync(path.join(root, 'model', 'unet', 'weights.bin'), Buffer.alloc(8));
    const changed = await fp32CopyOf({ source, cacheDir });
    assert.equal(changed.kind === 'copy' && changed.built, true);

    // a truncated copy, or a changed graph file: made again, and it runs
    fs.truncateSync(`${first.file}.data`, 10);
    const rebuilt = await fp32CopyOf({ source, cacheDir });
    assert.equal(rebuilt.kind === 'copy' && rebuilt.built, true);
    fs.writeFileSync(first.file, Buffer.from('not a graph'));
    const again = await fp32CopyOf({ source, cacheDir });
    assert.equal(again.kind === 'copy' && again.built, true);
    assert.deepEqual(Array.from((await runGraph(first.file)).values), expected);
    assert.deepEqual(fs.readdirSync(cacheDir).filter((n) => n.includes('.partial-')), [], 'no half-written entry is left');

    // a corrupt manifest is a miss, not a crash
    const entry = path.dirname(first.file);
    fs.writeFileSync(path.join(entry, 'manifest.json'), '{');
    assert.equal((await fp32CopyOf({ source, cacheDir })).kind, 'copy');
  });

  test('an fp32 graph has no copy', async () => {
    const dir = path.join(root, 'fp32', 'unet');
    fs.mkdirSync(dir, { recursive: true });
    const graph = concat([lengthDelimited(1, node('Identity', ['x'], ['y'])), str(2, 'g'),
      lengthDelimited(11, valueInfo('x', 1, [2])), lengthDelimited(12, valueInfo('y', 1, [2]))]);
    fs.writeFileSync(path.join(dir, 'model.onnx'), concat([int(1, 8), lengthDelimited(7, graph), lengthDelimited(8, int(2, 17))]));
    const cacheDir = path.join(root, 'cache-fp32');
    const file = path.join(dir, 'model.onnx');
    const when = new Date('2026-01-01T00:00:00Z'); // whole seconds: set again exactly below
    fs.utimesSync(file, when, when);
    assert.deepEqual(await fp32CopyOf({ source: path.join(dir, 'model.onnx'), cacheDir }), { kind: 'fp32-source' });
    assert.deepEqual(await fp32CopyOf({ source: path.join(dir, 'model.onnx'), cacheDir }), { kind: 'fp32-source' });
    // a small graph has no cache entry: the process remembers it (by its folder's sizes and times) instead
    assert.deepEqual(fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir) : [], []);
    fs.writeFileSync(file, new Uint8Array(fs.statSync(file).size).fill(0xff)); // unreadable now, same size and time: not read again
    fs.utimesSync(file, when, when);
    assert.deepEqual(await fp32CopyOf({ source: file, cacheDir }), { kind: 'fp32-source' });
    fs.utimesSync(file, when, new Date(when.getTime() + 5000)); // a new time: read again, and found unreadable
    await assert.rejects(fp32CopyOf({ source: file, cacheDir }));
  });
});

describe('which provider gets the copy', () => {
  test('the CPU only: CUDA, DirectML and CoreML run the fp16 graph', () => {
    assert.equal(wantsFp32Copy('cpu'), true);
    for (const ep of ['cuda', 'dml', 'coreml']) assert.equal(wantsFp32Copy(ep), false, ep);
  });

  test('the next session\'s provider: the first of the setting\'s not known to be unavailable', () => {
    const none = new Map<string, string>();
    const noCuda = new Map([['cuda', 'libcudart missing']]);
    assert.equal(nextProvider('cpu', none, 'linux'), 'cpu');
    assert.equal(nextProvider('auto', none, 'linux'), 'cuda');
    assert.equal(nextProvider('auto', noCuda, 'linux'), 'cpu');
    assert.equal(nextProvider('cuda', noCuda, 'linux'), 'cpu');
    assert.equal(nextProvider('auto', none, 'win32'), 'dml');
    assert.equal(nextProvider('auto', none, 'darwin'), 'coreml');
  });
});
