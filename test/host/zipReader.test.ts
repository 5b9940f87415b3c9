/**
 * The ZIP reader against archives written by an independent implementation (CPython's zipfile: deflate, stored,
 * zip64 records), and the test writer checked by Info-ZIP's `unzip -t`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { extractZipEntry, readZipEntries } from '../../src/models/zipReader';
import { writeZip } from '../fixtures/zipWriter';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zip-reader-'));
const has = (tool: string): boolean => {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return tool === 'unzip' && fs.existsSync('/usr/bin/unzip');
  }
};

const PY = `
import sys, zipfile, os
out = sys.argv[1]
with zipfile.ZipFile(out, 'w', compression=zipfile.ZIP_DEFLATED, allowZip64=True) as z:
    z.writestr('runtimes/linux-x64/native/libone.so', bytes(range(256)) * 4000)
    z.writestr(zipfile.ZipInfo('stored.txt'), b'stored bytes', compress_type=zipfile.ZIP_STORED)
    with z.open('runtimes/linux-x64/native/libbig.so', 'w', force_zip64=True) as f:
        f.write(os.urandom(1) * 0 + b'x' * 300000)
    z.writestr('empty', b'')
`;

test('reads and extracts what CPython\'s zipfile writes (deflate, stored, zip64 entry, empty), checking CRC and size', { skip: !has('python3') && 'python3 missing' }, async () => {
  const file = path.join(dir, 'py.zip');
  execFileSync('python3', ['-c', PY, file]);
  const entries = await readZipEntries(file);
  assert.deepEqual(entries.map((e) => [e.name, e.method, e.size]), [
    ['runtimes/linux-x64/native/libone.so', 8, 1_024_000], ['stored.txt', 0, 12], ['runtimes/linux-x64/native/libbig.so', 8, 300_000], ['empty', 8, 0],
  ]);
  const expected = [Buffer.concat(Array.from({ length: 4000 }, () => Buffer.from(Array.from({ length: 256 }, (_, i) => i)))), Buffer.from('stored bytes'), Buffer.alloc(300_000, 'x'), Buffer.alloc(0)];
  for (const [i, e] of entries.entries()) {
    const dest = path.join(dir, `out-${i}`);
    const sha = await extractZipEntry(file, e, dest);
    assert.deepEqual(fs.readFileSync(dest), expected[i]);
    assert.equal(sha, createHash('sha256').update(expected[i]).digest('hex'));
  }
});

test('a flipped byte in the compressed data fails the CRC check and leaves no file', async () => {
  const data = Buffer.from('a'.repeat(5000) + 'b'.repeat(5000));
  const zip = writeZip([{ name: 'x.so', data, store: true }]);
  zip[30 + 4 + 100] ^= 0xff; // inside the stored data
  const file = path.join(dir, 'bad.zip');
  fs.writeFileSync(file, zip);
  const [entry] = await readZipEntries(file);
  await assert.rejects(extractZipEntry(file, entry, path.join(dir, 'bad.so')), /CRC-32/);
  assert.equal(fs.existsSync(path.join(dir, 'bad.so')), false);
  assert.equal(fs.existsSync(path.join(dir, 'bad.so.partial')), false);
});

test('the test writer\'s archives (plain and zip64) pass unzip -t and read back', { skip: !has('unzip') && 'unzip missing' }, async () => {
  for (const zip64 of [false, true]) {
    const file = path.join(dir, `w${zip64}.zip`);
    fs.writeFileSync(file, writeZip([{ name: 'a/b.so', data: Buffer.alloc(70_000, 3) }, { name: 'c', data: Buffer.from('hi'), store: true }], { zip64 }));
    assert.match(execFileSync('unzip', ['-t', file], { encoding: 'utf8' }), /No errors detected/);
    assert.deepEqual((await readZipEntries(file)).map((e) => [e.name, e.size]), [['a/b.so', 70_000], ['c', 2]]);
  }
});

test('a file that is no ZIP says so', async () => {
  const file = path.join(dir, 'not.zip');
  fs.writeFileSync(file, 'hello');
  await assert.rejects(readZipEntries(file), /not a readable ZIP archive/);
});
