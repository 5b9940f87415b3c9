/**
 * LoadedModel over ONNX Runtime sessions (src/engine/onnx.ts): reads what each session declares and casts to it —
 * `input_ids` int32/int64, UNet `timestep` int64/float32/float16 as a scalar, a fixed-length vector or one per
 * batch item, fp16 or fp32 tensors — and returns float32 (ARCHITECTURE.md engine steps 2–5).
 */
import * as path from 'node:path';
import type { ExecutionProviderSetting } from '../protocol/engineMessages';
import { float32ToFloat16, toFloat32 } from './fp16';
import { ModelError } from './modelError';
import { COMPONENT_FILES } from './modelFolder';
import type { LoadedModel, ModelInfo } from './modelTypes';
import { createSession, type OnnxSession, type TensorValue, type ValueDescription } from './onnx';

export interface LoadModelOptions {
  readonly executionProvider?: ExecutionProviderSetting;
  /** intra-op threads; default half the logical CPUs. */
  readonly threads?: number;
  readonly log?: (message: string) => void;
}

/** Required inputs per component (names as diffusers' converter and Optimum export them). */
const UNET_INPUTS = ['sample', 'timestep', 'encoder_hidden_states'] as const;

function fail(session: OnnxSession, message: string): never {
  throw new ModelError('wrong-input', session.file, `${session.file}: ${message}`);
}

function listNames(values: readonly ValueDescription[]): string {
  return values.map((v) => `${v.name} (${v.type}[${v.dims.join(',')}])`).join(', ') || 'none';
}

/** The input called `name`, or the only input when a single-input model names it otherwise. */
function pickInput(session: OnnxSession, name: string): ValueDescription {
  const found = session.input(name) ?? (session.inputs.length === 1 ? session.inputs[0] : undefined);
  if (found === undefined) fail(session, `expected an input named "${name}", found ${listNames(session.inputs)}`);
  return found;
}

/** The output called one of `names`, or the first output. */
function pickOutput(session: OnnxSession, names: readonly string[]): ValueDescription {
  const found = session.outputs.find((o) => names.includes(o.name)) ?? session.outputs[0];
  if (found === undefined) fail(session, 'declares no outputs');
  return found;
}

/** A float tensor of the declared type (float16 bits for 'float16'). */
function floatFeed(desc: ValueDescription, session: OnnxSession, data: Float32Array, dims: readonly number[]): TensorValue {
  if (desc.type === 'float32') return { type: 'float32', data, dims };
  if (desc.type === 'float16') return { type: 'float16', data: float32ToFloat16(data), dims };
  return fail(session, `input "${desc.name}" should be float32 or float16, the model declares ${desc.type}`);
}

/** The declared first dim when it is a fixed number (a static-batch export), else undefined. */
function fixedBatch(desc: ValueDescription): number | undefined {
  const d = desc.dims[0];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

/** Splits a batch-major tensor into chunks of at most `chunk` items and concatenates the per-chunk results. */
async function inChunks(data: Float32Array, dims: readonly number[], chunk: number,
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

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function scale(data: Float32Array, factor: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] * factor;
  return out;
}

function checkLength(what: string, data: ArrayLike<number>, dims: readonly number[]): void {
  const n = dims.reduce((a, b) => a * b, 1);
  if (data.length !== n) {
    throw new RangeError(`${what}: dims [${dims.join(', ')}] need ${n} values, got ${data.length}`);
  }
}

/** The UNet timestep tensor as the session declares it (rank 0: scalar; rank 1: fixed length or the batch). */
function timestepFeed(desc: ValueDescription, session: OnnxSession, t: number, batch: number): TensorValue {
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

interface Sessions {
  textEncoder: OnnxSession;
  unet: OnnxSession;
  vaeDecoder: OnnxSession;
  vaeEncoder?: OnnxSession;
}

function checkUnet(unet: OnnxSession): void {
  const missing = UNET_INPUTS.filter((n) => unet.input(n) === undefined);
  if (missing.length > 0) {
    fail(unet, `expected UNet inputs ${UNET_INPUTS.join(', ')}; missing ${missing.join(', ')}; found ${listNames(unet.inputs)}`);
  }
  const extra = unet.inputs.filter((i) => !(UNET_INPUTS as readonly string[]).includes(i.name)).map((i) => i.name);
  if (extra.length > 0) {
    const kind = extra.includes('text_embeds') || extra.includes('time_ids') ? ' (an SDXL UNet)'
      : extra.includes('timestep_cond') ? ' (an LCM UNet with a guidance embedding)' : '';
    throw new ModelError('unsupported', unet.file,
      `${unet.file} needs inputs this engine does not provide yet: ${extra.join(', ')}${kind}; not supported yet`);
  }
}

/** Loads the sessions of a model folder read by readModelFolder(). */
export async function loadModel(info: ModelInfo, opts: LoadModelOptions = {}): Promise<LoadedModel> {
  const log = opts.log ?? (() => undefined);
  const sessionOpts = { executionProvider: opts.executionProvider ?? 'auto', threads: opts.threads, log };
  const created: OnnxSession[] = [];
  const open = async (rel: string): Promise<OnnxSession> => {
    const s = await createSession(path.join(info.dir, rel), sessionOpts);
    created.push(s);
    return s;
  };
  let sessions: Sessions;
  try {
    const unet = await open(COMPONENT_FILES.unet);
    checkUnet(unet);
    log(`UNet runs on ${unet.executionProvider}`);
    sessions = {
      unet,
      textEncoder: await open(COMPONENT_FILES.textEncoder),
      vaeDecoder: await open(COMPONENT_FILES.vaeDecoder),
      vaeEncoder: info.hasVaeEncoder ? await open(COMPONENT_FILES.vaeEncoder) : undefined,
    };
    pickInput(sessions.textEncoder, 'input_ids');
    pickInput(sessions.vaeDecoder, 'latent_sample');
    if (sessions.vaeEncoder !== undefined) pickInput(sessions.vaeEncoder, 'sample');
  } catch (e) {
    await Promise.all(created.map((s) => s.release()));
    throw e;
  }
  return new OnnxModel(info, sessions);
}

class OnnxModel implements LoadedModel {
  readonly info: ModelInfo;
  readonly executionProvider: string;
  private released = false;

  constructor(info: ModelInfo, private readonly s: Sessions) {
    const sampleType = s.unet.input('sample')?.type;
    this.info = { ...info, precision: sampleType === 'float16' ? 'fp16' : 'fp32' };
    this.executionProvider = s.unet.executionProvider;
  }

  private check(): void {
    if (this.released) throw new Error(`Model ${this.info.name} was released; load it again`);
  }

  async encodeText(ids: Int32Array, batch: number): Promise<{ data: Float32Array; dims: number[] }> {
    this.check();
    const session = this.s.textEncoder;
    const input = pickInput(session, 'input_ids');
    const output = pickOutput(session, ['last_hidden_state']);
    if (batch <= 0 || ids.length % batch !== 0) throw new RangeError(`encodeText: ${ids.length} ids do not split into ${batch} rows`);
    const len = ids.length / batch;
    if (input.type !== 'int32' && input.type !== 'int64') {
      fail(session, `input "${input.name}" should be int32 or int64, the model declares ${input.type}`);
    }
    const chunk = fixedBatch(input) ?? batch;
    const parts: Float32Array[] = [];
    let dims: readonly number[] = [];
    for (let b = 0; b < batch; b += chunk) {
      const n = Math.min(chunk, batch - b);
      const rows = ids.subarray(b * len, (b + n) * len);
      const feed: TensorValue = input.type === 'int64'
        ? { type: 'int64', data: BigInt64Array.from(rows, (v) => BigInt(v)), dims: [n, len] }
        : { type: 'int32', data: rows, dims: [n, len] };
      const out = (await session.run({ [input.name]: feed }))[output.name];
      dims = out.dims;
      parts.push(toFloat32(out.data, `${session.file} output ${output.name}`));
    }
    const data = parts.length === 1 ? parts[0] : concat(parts);
    return { data, dims: [batch, ...dims.slice(1)] };
  }

  async predictNoise(sample: Float32Array, sampleDims: number[], timestep: number,
    hiddenStates: Float32Array, hiddenDims: number[]): Promise<Float32Array> {
    this.check();
    checkLength('predictNoise sample', sample, sampleDims);
    checkLength('predictNoise encoder_hidden_states', hiddenStates, hiddenDims);
    if (sampleDims[0] !== hiddenDims[0]) {
      throw new RangeError(`predictNoise: sample batch ${sampleDims[0]} and encoder_hidden_states batch ${hiddenDims[0]} differ`);
    }
    const unet = this.s.unet;
    const sIn = unet.input('sample') as ValueDescription;
    const tIn = unet.input('timestep') as ValueDescription;
    const hIn = unet.input('encoder_hidden_states') as ValueDescription;
    const output = pickOutput(unet, ['out_sample']);
    const hiddenItem = hiddenStates.length / hiddenDims[0];
    return inChunks(sample, sampleDims, fixedBatch(sIn) ?? sampleDims[0], async (part, partDims, first) => {
      const n = partDims[0];
      const hidden = hiddenStates.subarray(first * hiddenItem, (first + n) * hiddenItem);
      const result = await unet.run({
        [sIn.name]: floatFeed(sIn, unet, part, partDims),
        [tIn.name]: timestepFeed(tIn, unet, timestep, n),
        [hIn.name]: floatFeed(hIn, unet, hidden, [n, ...hiddenDims.slice(1)]),
      });
      return toFloat32(result[output.name].data, `${unet.file} output ${output.name}`);
    });
  }

  /** One image at a time, as diffusers' ONNX pipeline does: bounded memory at 512² and up, same speed on CPU. */
  async decodeLatents(latents: Float32Array, latentDims: number[]): Promise<Float32Array> {
    this.check();
    checkLength('decodeLatents', latents, latentDims);
    const vae = this.s.vaeDecoder;
    const input = pickInput(vae, 'latent_sample');
    const output = pickOutput(vae, ['sample']);
    const scaled = scale(latents, 1 / this.info.scalingFactor);
    return inChunks(scaled, latentDims, 1, async (part, partDims) => {
      const result = await vae.run({ [input.name]: floatFeed(input, vae, part, partDims) });
      return toFloat32(result[output.name].data, `${vae.file} output ${output.name}`);
    });
  }

  async encodeImage(image: Float32Array, imageDims: number[]): Promise<Float32Array> {
    this.check();
    checkLength('encodeImage', image, imageDims);
    const vae = this.s.vaeEncoder;
    if (vae === undefined) {
      throw new ModelError('missing-file', path.join(this.info.dir, COMPONENT_FILES.vaeEncoder),
        `Missing ${path.join(this.info.dir, COMPONENT_FILES.vaeEncoder)}: this model cannot do img2img`);
    }
    const input = pickInput(vae, 'sample');
    const output = pickOutput(vae, ['latent_parameters', 'latent_sample', 'latent_dist']);
    const c = this.info.latentChannels;
    const latents = await inChunks(image, imageDims, 1, async (part, partDims) => {
      const result = (await vae.run({ [input.name]: floatFeed(input, vae, part, partDims) }))[output.name];
      const data = toFloat32(result.data, `${vae.file} output ${output.name}`);
      const channels = result.dims[1];
      if (channels === c) return data;
      // latent_parameters: mean (C channels) then log-variance (C channels); keep the mean.
      if (channels === 2 * c) return data.slice(0, data.length / 2);
      return fail(vae, `output "${output.name}" has ${channels} channels, expected ${c} (latents) or ${2 * c} (mean and log-variance)`);
    });
    return scale(latents, this.info.scalingFactor);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const all = [this.s.textEncoder, this.s.unet, this.s.vaeDecoder, this.s.vaeEncoder];
    await Promise.all(all.map((s) => s?.release()));
  }
}
