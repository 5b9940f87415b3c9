/**
 * Feeds for model.ts: pick a session's inputs and outputs by name, build tensors of the declared dtype (float16
 * bits, int64 timesteps, scalar or vector), split batches for static-batch exports, and check lengths.
 */
import { float32ToFloat16 } from './fp16';
import { ModelError } from '../model';
import type { OnnxSession, TensorValue, ValueDescription } from './session';

export function fail(session: OnnxSession, message: string): never {
  throw new ModelError('wrong-input', session.file, `${session.file}: ${message}`);
}

export function listNames(values: readonly ValueDescription[]): string {
  return values.map((v) => `${v.name} (${v.type}[${v.dims.join(',')}])`).join(', ') || 'none';
}

/** The input called `name`, or the only input when a single-input model names it otherwise. */
export function pickInput(session: OnnxSession, name: string): ValueDescription {
  const found = session.input(name) ?? (session.inputs.length === 1 ? session.inputs[0] : undefined);
  if (found === undefined) fail(session, `expected an input named "${name}", found ${listNames(session.inputs)}`);
  return found;
}

/** The output called one of `names`, or the first output. */
export function pickOutput(session: OnnxSession, names: readonly string[]): ValueDescription {
  const found = session.outputs.find((o) => names.includes(o.name)) ?? session.outputs[0];
  if (found === undefined) fail(session, 'declares no outputs');
  return found;
}

/** A float tensor of the declared type (float16 bits for 'float16'). */
export function floatFeed(desc: ValueDescription, session: OnnxSession, data: Float32Array, dims: readonly number[]): TensorValue {
  if (desc.type === 'float32') return { type: 'float32', data, dims };
  if (desc.type === 'float16') return { type: 'float16', data: float32ToFloat16(data), dims };
  return fail(session, `input "${desc.name}" should be float32 or float16, the model declares ${desc.type}`);
}

/** The declared first dim when it is a fixed number (a static-batch export), else undefined. */
export function fixedBatch(desc: ValueDescription): number | undefined {
  const d = desc.dims[0];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

/** Splits a batch-major tensor into chunks of at most `chunk` items and concatenates the per-chunk results. */
export async function inChunks(data: Float32Array, dims: readonly number[], chunk: number,
  run: (part: Float32Array, partDims: number[], first: number) => Promise<Float32Array>): Promise<Float32Array> {
  const batch = dims[0];
  if (batch <= chunk) return run(data, [...dims], 0);
  const item = data.length / batch;
  const parts: Float32Array[] = [];
  for (let b = 0; b < batch; b += chunk) {
    const n = Math.min(chunk, batch - b);
    parts.push(await run(data.subarray(b * item, (b + n) * item), [n, ...dims.slice(1)], b));
  }
  return concat(parts);
}

export function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * x · factor as torch/numpy compute a float32 tensor times a Python float: the factor is rounded to float32 first
 * (diffusers' img2img `scaling_factor * init_latents`).
 */
export function scale(data: Float32Array, factor: number): Float32Array {
  const f = Math.fround(factor);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] * f;
  return out;
}

/**
 * x / divisor as torch divides a float32 tensor by a Python float (diffusers' `latents / vae.config.scaling_factor`):
 * a float32 division by the divisor rounded to float32. Multiplying by the double 1/divisor instead differs by
 * one ulp in ~40% of the elements.
 */
export function divide(data: Float32Array, divisor: number): Float32Array {
  const d = Math.fround(divisor);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] / d;
  return out;
}

export function checkLength(what: string, data: ArrayLike<number>, dims: readonly number[]): void {
  const n = dims.reduce((a, b) => a * b, 1);
  if (data.length !== n) {
    throw new RangeError(`${what}: dims [${dims.join(', ')}] need ${n} values, got ${data.length}`);
  }
}

/** The UNet timestep tensor as the session declares it (rank 0: scalar; rank 1: fixed length or the batch). */
export function timestepFeed(desc: ValueDescription, session: OnnxSession, t: number, batch: number): TensorValue {
  if (desc.dims.length > 1) fail(session, `input "timestep" should be a scalar or a vector, the model declares [${desc.dims.join(', ')}]`);
  const dims = desc.dims.length === 0 ? [] : [typeof desc.dims[0] === 'number' ? desc.dims[0] : batch];
  const n = dims.length === 0 ? 1 : dims[0];
  switch (desc.type) {
    // diffusers' ONNX pipeline casts with numpy (np.array([t], dtype=int64)), which truncates.
    case 'int64': return { type: 'int64', data: new BigInt64Array(n).fill(BigInt(Math.trunc(t))), dims };
    case 'int32': return { type: 'int32', data: new Int32Array(n).fill(Math.trunc(t)), dims };
    case 'float32': return { type: 'float32', data: new Float32Array(n).fill(t), dims };
    case 'float16': return { type: 'float16', data: float32ToFloat16(new Float32Array(n).fill(t)), dims };
    case 'float64': return { type: 'float64', data: new Float64Array(n).fill(t), dims };
    default: return fail(session, `input "timestep" has unsupported type ${desc.type}`);
  }
}
