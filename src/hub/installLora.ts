/**
 * A downloaded LoRA copied into the user's LoRA folder as `<name>.safetensors`, with `<name>.json` beside it saying
 * where it came from (`"lcm": true` for an LCM-LoRA, which makes the engine sample with LCM). A file of that name
 * the user already has is never overwritten: the same bytes are kept as they are, other bytes get the next free
 * `<name>-N` name (and its tag names it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface LoraToInstall {
  /** The name the tag uses: `<lora:name:1>`. */
  readonly name: string;
  readonly lcm: boolean;
  readonly repo: string;
  readonly commit: string;
}

/** Whether two files hold the same bytes (sizes first; then compared in 1 MiB pieces). */
async function sameBytes(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([fs.promises.stat(a), fs.promises.stat(b)]);
  if (sa.size !== sb.size) return false;
  const [fa, fb] = await Promise.all([fs.promises.open(a, 'r'), fs.promises.open(b, 'r')]);
  try {
    const ba = Buffer.alloc(1 << 20);
    const bb = Buffer.alloc(1 << 20);
    for (let pos = 0; pos < sa.size; pos += ba.length) {
      const [ra, rb] = await Promise.all([fa.read(ba, 0, ba.length, pos), fb.read(bb, 0, bb.length, pos)]);
      if (ra.bytesRead !== rb.bytesRead || !ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
    }
    return true;
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}

/** Copies `file` into `folder` (made if missing); returns the installed path and the name its tag uses. */
export async function installLoraFile(folder: string, file: string, lora: LoraToInstall): Promise<{ path: string; name: string }> {
  await fs.promises.mkdir(folder, { recursive: true });
  for (let n = 0; n < 1000; n++) {
    const name = n === 0 ? lora.name : `${lora.name}-${n}`;
    const dest = path.join(folder, `${name}.safetensors`);
    const sidecar = path.join(folder, `${name}.json`);
    if (fs.existsSync(dest)) {
      if (!(await sameBytes(file, dest))) continue; // the user's own file of that name: kept, another name used
    } else {
      if (fs.existsSync(sidecar)) continue;
      await fs.promises.copyFile(file, dest, fs.constants.COPYFILE_EXCL);
    }
    await fs.promises.writeFile(sidecar, `${JSON.stringify({ lcm: lora.lcm, source: `${lora.repo}@${lora.commit}` }, null, 2)}\n`);
    return { path: dest, name };
  }
  throw new Error(`${folder} already holds ${lora.name}.safetensors and ${lora.name}-1 … -999: remove some`);
}
