import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { extractZipEntry, readZipEntries } from '../../src/models/zipReader';
import { writeZip } from '../fixtures/zipWriter';

// Issue 12 row 11: the GPU-support package with an entry that inflates to more than its declared size. Before the
// fix the whole stream was written (297 MiB for the archive) and only then compared.
test('an entry larger than declared stops at the declared size: no more bytes are written, the partial file is removed', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zip-bomb-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const declared = 1000;
  const zip = writeZip([{ name: 'lib/libonnxruntime_providers_cuda.so', data: Buffer.alloc(64 * 1024 * 1024) }]);
  // declare 1000 bytes in the local and central headers
  zip.writeUInt32LE(declared, 22);
  const central = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  zip.writeUInt32LE(declared, central + 24);
  const file = path.join(tmp, 'pkg.nupkg');
  fs.writeFileSync(file, zip);
  const [entry] = await readZipEntries(file);
  assert.equal(entry.size, declared);

  let largest = 0;
  const dest = path.join(tmp, 'out.so');
  const watch = setInterval(() => { largest = Math.max(largest, fs.statSync(`${dest}.partial`, { throwIfNoEntry: false })?.size ?? 0); }, 1);
  // the module object itself (zipReader reads createWriteStream from it at each call)
  const realFs = createRequire(__filename)('node:fs') as typeof fs;
  const original = realFs.createWriteStream;
  let written = 0;
  t.mock.method(realFs, 'createWriteStream', (...args: Parameters<typeof fs.createWriteStream>) => {
    const stream = original(...args);
    const write = stream.write.bind(stream) as (chunk: Buffer, ...rest: unknown[]) => boolean;
    (stream as unknown as { write: typeof write }).write = (chunk: Buffer, ...rest: unknown[]) => { written += chunk.length; return write(chunk, ...rest); };
    return stream;
  });
  try {
    await assert.rejects(extractZipEntry(file, entry, dest), /inflates to more than the 1000 bytes the archive declares/);
  } finally {
    clearInterval(watch);
  }
  assert.ok(written <= declared, `${written} bytes written`);
  assert.ok(largest <= declared, `${largest} bytes on disk`);
  assert.equal(fs.existsSync(`${dest}.partial`), false);
  assert.equal(fs.existsSync(dest), false);
});
