import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { installLoraFile } from '../../src/hub/installLora';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'idx-lora-install-'));
}

const lora = { name: 'lcm-lora-sdv1-5', lcm: true, repo: 'latent-consistency/lcm-lora-sdv1-5', commit: 'abc123' };

test('a downloaded LoRA is copied into the (new) LoRA folder with a .json beside it: lcm and where it came from', async () => {
  const dir = tmp();
  const file = path.join(dir, 'pytorch_lora_weights.safetensors');
  fs.writeFileSync(file, Buffer.from('lora bytes'));
  const folder = path.join(dir, 'Lora', 'sub');
  const got = await installLoraFile(folder, file, lora);
  assert.deepEqual(got, { path: path.join(folder, 'lcm-lora-sdv1-5.safetensors'), name: 'lcm-lora-sdv1-5' });
  assert.equal(fs.readFileSync(got.path, 'utf8'), 'lora bytes');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(folder, 'lcm-lora-sdv1-5.json'), 'utf8')),
    { lcm: true, source: 'latent-consistency/lcm-lora-sdv1-5@abc123' });
  assert.equal(fs.readFileSync(file, 'utf8'), 'lora bytes', 'the downloaded file is left as it was');
  // the same bytes again: the same file, no copy beside it
  assert.deepEqual(await installLoraFile(folder, file, lora), got);
  assert.deepEqual(fs.readdirSync(folder).sort(), ['lcm-lora-sdv1-5.json', 'lcm-lora-sdv1-5.safetensors']);
});

test('a different file of that name the user has is never overwritten: the download takes the next free name', async () => {
  const dir = tmp();
  const file = path.join(dir, 'download.safetensors');
  fs.writeFileSync(file, Buffer.from('downloaded'));
  const folder = path.join(dir, 'Lora');
  fs.mkdirSync(folder);
  fs.writeFileSync(path.join(folder, 'lcm-lora-sdv1-5.safetensors'), 'the user\'s own');
  fs.writeFileSync(path.join(folder, 'lcm-lora-sdv1-5-1.json'), '{"lcm": false}');
  const got = await installLoraFile(folder, file, lora);
  assert.equal(got.name, 'lcm-lora-sdv1-5-2');
  assert.equal(fs.readFileSync(path.join(folder, 'lcm-lora-sdv1-5.safetensors'), 'utf8'), 'the user\'s own');
  assert.equal(fs.readFileSync(path.join(folder, 'lcm-lora-sdv1-5-1.json'), 'utf8'), '{"lcm": false}', 'a sidecar without its file is kept too');
  assert.equal(fs.readFileSync(got.path, 'utf8'), 'downloaded');
  assert.equal(JSON.parse(fs.readFileSync(path.join(folder, 'lcm-lora-sdv1-5-2.json'), 'utf8')).lcm, true);
});
