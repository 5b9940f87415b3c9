/**
 * The two loops over every byte of a finished image — VAE output to RGB bytes, and PNG's Paeth filter — as a tiny
 * WebAssembly module. They run once an image, so plain JS runs them in V8's interpreter: ~1.8 and
 * ~1.4 ms for a 64×64 image, a tenth of the CLI's own time on the embedded model; here they take microseconds
 * (plus ~0.3 ms to compile the module once a process). WebAssembly's f32 operations are IEEE single precision
 * and f32.nearest rounds half to even, so the bytes are exactly those of diffusers' float32 steps. The module's
 * source is src/engine/image/pixelKernelsSource.ts.
 */
import { PIXEL_KERNELS_WASM } from './pixelKernelsWasm';

// The little of the WebAssembly JS API used here (TypeScript's ES libs do not declare it; Node has it always).
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
};
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface Kernels {
  memory: WasmMemory;
  rgb(src: number, dst: number, plane: number): void;
  paeth(src: number, dst: number, width: number, height: number): void;
}

// ---- running them ------------------------------------------------------------------------------------------

const PAGE = 65536;
/**
 * Above this the instance (and its memory) is dropped after the call: a 2048² image needs ~64 MB of it, which the
 * engine process should not hold between generations. Up to 1280² (SDXL's sizes, whose TAESD previews come every
 * step) the memory is kept and reused.
 */
const KEEP_MEMORY_BYTES = 32 << 20;
let compiled: object | undefined;
let cached: Kernels | undefined;

function kernels(bytesNeeded: number): Kernels {
  if (cached === undefined) {
    compiled ??= new WebAssembly.Module(Buffer.from(PIXEL_KERNELS_WASM, 'base64'));
    const exports = new WebAssembly.Instance(compiled).exports;
    cached = { memory: exports.memory as WasmMemory, rgb: exports.rgb as Kernels['rgb'], paeth: exports.paeth as Kernels['paeth'] };
  }
  const have = cached.memory.buffer.byteLength;
  if (bytesNeeded > have) cached.memory.grow(Math.ceil((bytesNeeded - have) / PAGE));
  return cached;
}

function release(k: Kernels): void {
  if (k.memory.buffer.byteLength > KEEP_MEMORY_BYTES) cached = undefined;
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

/**
 * One image of VAE output (3 planes of `plane` values from `offset` in `sample`, values in about [−1, 1]) →
 * interleaved RGB bytes as diffusers' VaeImageProcessor.postprocess + numpy_to_pil make them.
 */
export function vaePlanesToRgb(sample: Float32Array, offset: number, plane: number): Uint8Array {
  const inBytes = align8(3 * plane * 4);
  const k = kernels(inBytes + 3 * plane);
  new Float32Array(k.memory.buffer, 0, 3 * plane).set(sample.subarray(offset, offset + 3 * plane));
  k.rgb(0, inBytes, plane);
  const rgb = new Uint8Array(k.memory.buffer, inBytes, 3 * plane).slice();
  release(k);
  return rgb;
}

/**
 * PNG scanlines of 8-bit RGB rows, each its filter type byte (4, Paeth) then the filtered bytes. Paeth on every
 * row: measured on 512×512 photos, libpng's per-row "minimum sum of absolute differences" heuristic picked Paeth on
 * nearly every row (files within 0.01%), and Up made files 9–13% larger.
 */
export function paethFilterRows(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const inBytes = align8(rgb.length);
  const outLength = height * (width * 3 + 1);
  const k = kernels(inBytes + outLength);
  new Uint8Array(k.memory.buffer, 0, rgb.length).set(rgb);
  k.paeth(0, inBytes, width, height);
  const out = new Uint8Array(k.memory.buffer, inBytes, outLength).slice();
  release(k);
  return out;
}
