/**
 * LoadedModel over ONNX Runtime sessions (src/engine/onnx/session.ts): reads what each session declares and casts to it —
 * `input_ids` int32/int64, UNet `timestep` int64/float32/float16 as a scalar, a fixed-length vector or one per
 * batch item, fp16 or fp32 tensors — and returns float32 (ARCHITECTURE.md engine steps 2–5).
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ExecutionProviderSetting } from '../../protocol/engineMessages';
import { toFloat32 } from './fp16';
import { guidanceScaleEmbedding } from './guidanceEmbedding';
import { FUSE_ATTENTION_MAX_BYTES, fuseAttention, ModelError } from '../model';
import { COMPONENT_FILES } from '../model';
import type { DecodeOptions, LatentDistribution, LoadedModel, ModelInfo, PredictNoiseExtras, TextEncoderRun, XlTextConditioning } from '../model';
import { decodeTiled } from '../image';
import { addClipSkipOutputs, applyLayerNorm, clipSkipOutput, fitFinalLayerNorm } from '../prompt';
import { concatLastDim, outputsOf, penultimateHiddenState } from './textEncoderOutputs';
import { checkFinite, checkUnet, TIMESTEP_COND } from './unetInputs';
import {
  checkLength, concat, divide, fail, fixedBatch, floatFeed, inChunks, pickInput, pickOutput, scale, timestepFeed,
} from './modelFeeds';
import { createSession, type OnnxSession, type SessionOptions, type TensorValue, type ValueDescription } from './session';

export interface LoadModelOptions {
  readonly executionProvider?: ExecutionProviderSetting;
  /** intra-op threads; default half the logical CPUs. */
  readonly threads?: number;
  readonly log?: (message: string) => void;
  /**
   * Model files to load instead of the folder's (LoRA-patched copies, fp32 copies of fp16 components on the CPU): by
   * component, an absolute path to a model.onnx whose external data lies beside it.
   */
  readonly componentFiles?: {
    readonly unet?: string; readonly text_encoder?: string; readonly text_encoder_2?: string;
    readonly vae_decoder?: string; readonly vae_encoder?: string;
  };
}

/** diffusers' LatentConsistencyModelPipeline default guidance_scale (LCM UNets called without opts.guidanceScale). */
const LCM_DEFAULT_GUIDANCE = 8.5;


/** LoadedModel plus what only ONNX models have: LCM UNets' guidance-scale embedding. */
export interface OnnxLoadedModel extends LoadedModel {
  /** True for LCM UNets that take a guidance-scale embedding (`timestep_cond`): pass opts.guidanceScale. */
  readonly hasGuidanceEmbedding: boolean;
  /**
   * fp16 UNets: `hiddenStates` is converted to float16 once per array and reused while the same array comes again
   * (the pipeline passes one constant array for a whole generation); do not change its contents between calls.
   */
  predictNoise(sample: Float32Array, sampleDims: number[], timestep: number,
    hiddenStates: Float32Array, hiddenDims: number[], opts?: PredictNoiseExtras): Promise<Float32Array>;
  /**
   * The first call per loaded model (the first img2img) encodes one small image twice: a VAE encoder that samples
   * the latent with its own unseeded noise (RandomNormalLike inside the graph) gives two different results, and
   * this returns the warning for it; later calls, and deterministic encoders, return undefined.
   */
  vaeEncoderNoiseWarning(): Promise<string | undefined>;
  /** SDXL folders (info.xl); throws for others. */
  encodeTextXl(ids: Int32Array, ids2: Int32Array, batch: number): Promise<XlTextConditioning>;
}

export const VAE_ENCODER_NOISE_WARNING = 'this model\'s VAE encoder samples with its own unseeded noise: '
  + 'img2img differs between runs with the same seed';
/** The side of the test image vaeEncoderNoiseWarning encodes when the encoder declares no fixed size. */
const NOISE_CHECK_SIDE = 64;


interface Sessions {
  /** Parked (its memory freed) after each generation's encode; created again by the next. */
  textEncoder: ReleasableSession;
  /** SDXL's second text encoder (OpenCLIP ViT-bigG with projection). */
  textEncoder2?: ReleasableSession;
  unet: OnnxSession;
  vaeDecoder: OnnxSession;
  /** Opens vae_encoder on first use (img2img only): txt2img neither waits for it nor holds its memory. */
  openVaeEncoder?: () => Promise<OnnxSession>;
  /** Opens a session from model bytes changed in memory (clip skip's added outputs); `rel` names the file. */
  openBytes: (rel: string, bytes: Uint8Array) => Promise<OnnxSession>;
  /** A component's model file: the folder's, or the patched copy loaded instead. */
  pathOf: (rel: string) => string;
}

/**
 * The session of `file` with its attention fused in memory (src/engine/model/attentionFusion.ts) when the graph has
 * the pattern and is at most FUSE_ATTENTION_MAX_BYTES (far less working memory,
 * same results to float32 rounding); a graph that does not load fused is loaded as it is, saying why.
 */
export async function openFusedAttention(file: string, opts: SessionOptions): Promise<OnnxSession> {
  const log = opts.log ?? (() => undefined);
  let size: number | undefined;
  try {
    size = (await stat(file)).size;
  } catch {
    size = undefined; // createSession says what is wrong with the file
  }
  if (size !== undefined && size <= FUSE_ATTENTION_MAX_BYTES) {
    let result: { bytes: Uint8Array; fused: number } = { bytes: new Uint8Array(0), fused: 0 };
    try {
      result = fuseAttention(new Uint8Array(await readFile(file)));
    } catch {
      // not a readable graph (truncated, not ONNX): loading it by path says what is wrong in ONNX Runtime's words
    }
    const { bytes, fused } = result;
    if (fused > 0) {
      try {
        const session = await createSession(file, { ...opts, bytes, externalDataFolder: dirname(file) });
        log(`${file}: ${fused} attention blocks run as MultiHeadAttention (no score matrix in memory)`);
        return session;
      } catch (e) {
        log(`${file}: the graph with fused attention did not load (${e instanceof Error ? e.message : String(e)}); loading it as it is`);
      }
    }
  } else if (size !== undefined) {
    log(`${file}: weights inside the graph file (${(size / 2 ** 20).toFixed(0)} MiB): attention not fused, the score matrices stay in memory`);
  }
  return createSession(file, opts);
}

/** A session whose ONNX Runtime session can be let go between uses (park) and is created again by the next run. */
export interface ReleasableSession extends OnnxSession {
  /** Frees the ONNX Runtime session; the next run creates it again. */
  park(): Promise<void>;
  /** Whether an ONNX Runtime session is held now. */
  readonly held: boolean;
}

/** `first` wrapped so that it can be parked; `reopen` creates it again (inputs and outputs are first's). */
export function releasable(first: OnnxSession, reopen: () => Promise<OnnxSession>): ReleasableSession {
  let current: Promise<OnnxSession> | undefined = Promise.resolve(first);
  let released = false;
  return {
    file: first.file,
    executionProvider: first.executionProvider,
    inputs: first.inputs,
    outputs: first.outputs,
    input: (name) => first.input(name),
    get held() { return current !== undefined; },
    async run(feeds) {
      if (released) throw new ModelError('runtime', first.file, `${first.file}: the session was released; load the model again`);
      current ??= reopen();
      const pending = current;
      pending.catch(() => { if (current === pending) current = undefined; }); // a failed re-create is tried again next time
      return (await pending).run(feeds);
    },
    async park() {
      const pending = current;
      current = undefined;
      await (await pending?.catch(() => undefined))?.release();
    },
    async release() {
      released = true;
      await this.park();
    },
  };
}

/** Loads the sessions of a model folder read by readModelFolder(). */
export async function loadModel(info: ModelInfo, opts: LoadModelOptions = {}): Promise<OnnxLoadedModel> {
  const log = opts.log ?? (() => undefined);
  const sessionOpts = { executionProvider: opts.executionProvider ?? 'auto', threads: opts.threads, log };
  const created: OnnxSession[] = [];
  const files = opts.componentFiles ?? {};
  const pathOf = (rel: string): string => (rel === COMPONENT_FILES.unet ? files.unet : rel === COMPONENT_FILES.textEncoder
    ? files.text_encoder : rel === COMPONENT_FILES.textEncoder2 ? files.text_encoder_2 : rel === COMPONENT_FILES.vaeDecoder
    ? files.vae_decoder : rel === COMPONENT_FILES.vaeEncoder ? files.vae_encoder : undefined) ?? join(info.dir, rel);
  const open = async (rel: string): Promise<OnnxSession> => {
    const s = rel === COMPONENT_FILES.unet ? await openFusedAttention(pathOf(rel), sessionOpts) : await createSession(pathOf(rel), sessionOpts);
    created.push(s);
    return s;
  };
  let sessions: Sessions;
  try {
    const unet = await open(COMPONENT_FILES.unet);
    checkUnet(unet, info.xl !== undefined);
    log(`UNet runs on ${unet.executionProvider}`);
    const openReleasable = async (rel: string): Promise<ReleasableSession> =>
      releasable(await open(rel), () => createSession(pathOf(rel), sessionOpts));
    sessions = {
      unet,
      textEncoder: await openReleasable(COMPONENT_FILES.textEncoder),
      textEncoder2: info.xl !== undefined ? await openReleasable(COMPONENT_FILES.textEncoder2) : undefined,
      vaeDecoder: await open(COMPONENT_FILES.vaeDecoder),
      openVaeEncoder: info.hasVaeEncoder
        ? async () => {
          const encoder = await createSession(pathOf(COMPONENT_FILES.vaeEncoder), sessionOpts);
          pickInput(encoder, 'sample');
          return encoder;
        }
        : undefined,
      openBytes: (rel, bytes) => createSession(pathOf(rel), { ...sessionOpts, bytes, externalDataFolder: dirname(pathOf(rel)) }),
      pathOf,
    };
    pickInput(sessions.textEncoder, 'input_ids');
    if (sessions.textEncoder2 !== undefined) {
      pickInput(sessions.textEncoder2, 'input_ids');
      penultimateHiddenState(sessions.textEncoder);
      penultimateHiddenState(sessions.textEncoder2);
    }
    pickInput(sessions.vaeDecoder, 'latent_sample');
  } catch (e) {
    await Promise.all(created.map((s) => s.release()));
    throw e;
  }
  return new OnnxModel(info, sessions);
}

/** `rows` items of a batch-major tensor → `total` items, the last repeated. */
function padRows(data: Float32Array, rows: number, total: number): Float32Array {
  const item = data.length / rows;
  const out = new Float32Array(total * item);
  out.set(data);
  for (let r = rows; r < total; r++) out.set(data.subarray((rows - 1) * item, rows * item), r * item);
  return out;
}

/**
 * A UNet exported without dynamic axes runs only the latent size it was traced at: say which, before ONNX
 * Runtime's "invalid dimensions".
 */
function checkFixedLatentSize(unet: OnnxSession, sample: ValueDescription, sampleDims: readonly number[], vaeScale: number): void {
  const [fh, fw] = [sample.dims[2], sample.dims[3]];
  const [h, w] = [sampleDims[2], sampleDims[3]];
  if ((typeof fh === 'number' && fh !== h) || (typeof fw === 'number' && fw !== w)) {
    const size = (lh: number | string, lw: number | string): string =>
      typeof lh === 'number' && typeof lw === 'number' ? `${lw * vaeScale}x${lh * vaeScale} pixels (latents ${lw}×${lh})` : `latents ${lw}×${lh}`;
    throw new ModelError('unsupported', unet.file, `${unet.file}: this UNet was exported with a fixed size: it runs `
      + `${size(fh ?? '?', fw ?? '?')} only, not ${size(h, w)}; use `
      + `${typeof fh === 'number' && typeof fw === 'number' ? `${fw * vaeScale}x${fh * vaeScale}` : 'that size'}, or a UNet exported with dynamic axes`);
  }
}

/**
 * The UNet's declared `sample` channels against the folder's unet/config.json: a 9-channel (inpainting) UNet in a
 * folder without that config (diffusers' legacy converter writes none) would otherwise fail inside ONNX Runtime.
 * Channels declared as a symbolic axis cannot be checked here.
 */
function checkUnetChannels(unet: OnnxSession, info: ModelInfo): void {
  const declared = unet.input('sample')?.dims[1];
  const expected = info.latentChannels + (info.inpainting === true ? 5 : 0);
  if (typeof declared !== 'number' || declared === expected) return;
  const hint = declared === 9 ? ': a 9-channel UNet is an inpainting UNet; add unet/config.json with "in_channels": 9 (its diffusers config) to use it' : '';
  throw new ModelError('unsupported', unet.file, `${unet.file}: the UNet reads ${declared} channels, its folder says ${expected}${hint}`);
}

class OnnxModel implements OnnxLoadedModel {
  readonly info: ModelInfo;
  readonly executionProvider: string;
  private released = false;
  /** float16 copies of the last encoder_hidden_states array, per chunk (first item, count). */
  private hiddenFp16: { source: Float32Array; feeds: Map<string, TensorValue> } | null = null;
  private encoderNoiseChecked = false;
  private vaeEncoder: Promise<OnnxSession> | undefined;
  /** text_encoder with clip skip's outputs added in memory, per clip skip (exports without hidden_states.*). */
  private readonly clipSkipEncoders = new Map<number, Promise<{ session: OnnxSession; name: string; last: string }>>();

  constructor(info: ModelInfo, private readonly s: Sessions) {
    checkUnetChannels(s.unet, info);
    const sampleType = s.unet.input('sample')?.type;
    this.info = { ...info, precision: sampleType === 'float16' ? 'fp16' : 'fp32' };
    this.executionProvider = s.unet.executionProvider;
  }

  private check(): void {
    if (this.released) throw new Error(`Model ${this.info.name} was released; load it again`);
  }

  async encodeText(ids: Int32Array, batch: number): Promise<{ data: Float32Array; dims: number[] }> {
    this.check();
    const output = pickOutput(this.s.textEncoder, ['last_hidden_state']).name;
    return (await this.runTextEncoder(this.s.textEncoder, ids, batch, [output]))[output];
  }

  get unetTokens(): number | undefined {
    const tokens = this.s.unet.input('encoder_hidden_states')?.dims[1];
    return typeof tokens === 'number' ? tokens : undefined;
  }

  async textEncoderRuns(clipSkip: number): Promise<TextEncoderRun[]> {
    this.check();
    const second = this.s.textEncoder2;
    if (second !== undefined) {
      // A1111's SDXL conditioner: CLIP-L's hidden layer 11 and OpenCLIP-G's penultimate layer, no final norm, G's pooled.
      const h1 = penultimateHiddenState(this.s.textEncoder);
      const h2 = penultimateHiddenState(second);
      const pooledName = pickOutput(second, ['text_embeds']).name;
      return [
        async (ids, rows) => this.hiddenOf(await this.runTextEncoder(this.s.textEncoder, ids, rows, [h1]), h1),
        async (ids, rows) => {
          const out = await this.runTextEncoder(second, ids, rows, [h2, pooledName]);
          return { ...this.hiddenOf(out, h2), pooled: out[pooledName].data };
        },
      ];
    }
    const lastName = pickOutput(this.s.textEncoder, ['last_hidden_state']).name;
    if (clipSkip <= 1) return [async (ids, rows) => this.hiddenOf(await this.runTextEncoder(this.s.textEncoder, ids, rows, [lastName]), lastName)];
    const declared = clipSkipOutput(this.s.textEncoder.outputs.map((o) => o.name), clipSkip);
    const { session, name, last } = declared !== undefined
      ? { session: this.s.textEncoder, ...declared } : await this.clipSkipEncoder(clipSkip);
    return [async (ids, rows) => {
      const out = await this.runTextEncoder(session, ids, rows, [name, last, lastName]);
      const width = out[lastName].dims[2];
      // hidden_states[-N] through final_layer_norm, whose γ and β come from the model's own last layer → last_hidden_state.
      const norm = fitFinalLayerNorm(out[last].data, out[lastName].data, width);
      return { hidden: applyLayerNorm(out[name].data, width, norm), width };
    }];
  }

  private hiddenOf(out: Record<string, { data: Float32Array; dims: number[] }>, name: string): { hidden: Float32Array; width: number } {
    const { data, dims } = out[name];
    if (dims.length !== 3) fail(this.s.textEncoder, `output "${name}" should be batch × tokens × width, got [${dims.join(', ')}]`);
    return { hidden: data, width: dims[2] };
  }

  /** text_encoder/model.onnx read and given clip skip's outputs in memory (the file is not changed). */
  private clipSkipEncoder(clipSkip: number): Promise<{ session: OnnxSession; name: string; last: string }> {
    let pending = this.clipSkipEncoders.get(clipSkip);
    if (pending === undefined) {
      pending = (async () => {
        const file = this.s.pathOf(COMPONENT_FILES.textEncoder);
        let added;
        try {
          added = addClipSkipOutputs(new Uint8Array(await readFile(file)), clipSkip, file);
        } catch (e) {
          throw new ModelError('unsupported', file, e instanceof Error ? e.message : String(e), { cause: e });
        }
        const session = await this.s.openBytes(COMPONENT_FILES.textEncoder, added.bytes);
        return { session, name: added.name, last: added.last };
      })();
      pending.catch(() => this.clipSkipEncoders.delete(clipSkip));
      this.clipSkipEncoders.set(clipSkip, pending);
    }
    return pending;
  }

  async encodeTextXl(ids: Int32Array, ids2: Int32Array, batch: number): Promise<XlTextConditioning> {
    this.check();
    const second = this.s.textEncoder2;
    if (second === undefined) throw new Error(`Model ${this.info.name} is not SDXL: it has no text_encoder_2`);
    // diffusers: hidden_states[-2] of each encoder (its penultimate layer), concatenated per token; the pooled
    // embeds of text_encoder_2 (text_embeds, the projected pooler output).
    const h1 = penultimateHiddenState(this.s.textEncoder);
    const h2 = penultimateHiddenState(second);
    const pooledName = pickOutput(second, ['text_embeds']).name;
    const first = await this.runTextEncoder(this.s.textEncoder, ids, batch, [h1]);
    const other = await this.runTextEncoder(second, ids2, batch, [h2, pooledName]);
    const pooled = other[pooledName];
    if (pooled.dims.length !== 2) fail(second, `output "${pooledName}" should be batch × projection size, got [${pooled.dims.join(', ')}]`);
    const { data, dims } = concatLastDim(first[h1], other[h2], (message) => fail(second, message));
    return { hidden: data, hiddenDims: dims, pooled: pooled.data, pooledDims: pooled.dims };
  }

  /** Runs a text encoder on B rows of ids (in chunks for static-batch exports) and returns the named outputs as float32. */
  private async runTextEncoder(session: OnnxSession, ids: Int32Array, batch: number, outputs: readonly string[]):
      Promise<Record<string, { data: Float32Array; dims: number[] }>> {
    const input = pickInput(session, 'input_ids');
    if (batch <= 0 || ids.length % batch !== 0) throw new RangeError(`encodeText: ${ids.length} ids do not split into ${batch} rows`);
    const len = ids.length / batch;
    if (input.type !== 'int32' && input.type !== 'int64') {
      fail(session, `input "${input.name}" should be int32 or int64, the model declares ${input.type}`);
    }
    const chunk = fixedBatch(input) ?? batch;
    const parts = new Map<string, { parts: Float32Array[]; dims: readonly number[] }>(outputs.map((o) => [o, { parts: [], dims: [] }]));
    for (let b = 0; b < batch; b += chunk) {
      const n = Math.min(chunk, batch - b);
      const rows = ids.subarray(b * len, (b + n) * len);
      const feed: TensorValue = input.type === 'int64'
        ? { type: 'int64', data: BigInt64Array.from(rows, (v) => BigInt(v)), dims: [n, len] }
        : { type: 'int32', data: rows, dims: [n, len] };
      const result = await session.run({ [input.name]: feed });
      for (const name of outputs) {
        const out = result[name];
        const entry = parts.get(name) as { parts: Float32Array[]; dims: readonly number[] };
        entry.parts.push(toFloat32(out.data, `${session.file} output ${name}`));
        entry.dims = out.dims;
      }
    }
    return outputsOf(parts, batch);
  }

  async releaseTextEncoders(): Promise<void> {
    const skips = [...this.clipSkipEncoders.values()];
    this.clipSkipEncoders.clear();
    await Promise.all([
      this.s.textEncoder.park(), this.s.textEncoder2?.park(),
      ...skips.map(async (p) => (await p.catch(() => undefined))?.session.release()),
    ]);
  }

  get hasGuidanceEmbedding(): boolean {
    return this.s.unet.input(TIMESTEP_COND) !== undefined;
  }

  async predictNoise(sample: Float32Array, sampleDims: number[], timestep: number,
    hiddenStates: Float32Array, hiddenDims: number[], opts: PredictNoiseExtras = {}): Promise<Float32Array> {
    this.check();
    checkLength('predictNoise sample', sample, sampleDims);
    checkLength('predictNoise encoder_hidden_states', hiddenStates, hiddenDims);
    if (sampleDims[0] !== hiddenDims[0]) {
      throw new RangeError(`predictNoise: sample batch ${sampleDims[0]} and encoder_hidden_states batch ${hiddenDims[0]} differ`);
    }
    const unet = this.s.unet;
    const sIn = unet.input('sample') as ValueDescription;
    checkFixedLatentSize(unet, sIn, sampleDims, this.info.vaeScaleFactor);
    const fixed = fixedBatch(sIn);
    const batch = sampleDims[0];
    if (fixed !== undefined && batch % fixed !== 0) {
      // A UNet exported with a fixed batch (optimum-cli --no-dynamic-axes gives 2) run on another: pad with copies of
      // the last item (guidance ≤ 1 runs one), then drop their rows.
      const padded = Math.ceil(batch / fixed) * fixed;
      const pad = (rows: Float32Array | undefined): Float32Array | undefined =>
        rows === undefined ? undefined : padRows(rows, batch, padded);
      const out = await this.predictNoise(pad(sample) as Float32Array, [padded, ...sampleDims.slice(1)], timestep,
        pad(hiddenStates) as Float32Array, [padded, ...hiddenDims.slice(1)],
        { ...opts, textEmbeds: pad(opts.textEmbeds), timeIds: pad(opts.timeIds) });
      return out.subarray(0, sample.length);
    }
    const tIn = unet.input('timestep') as ValueDescription;
    const hIn = unet.input('encoder_hidden_states') as ValueDescription;
    const output = pickOutput(unet, ['out_sample']);
    const cIn = unet.input(TIMESTEP_COND);
    const embedding = cIn === undefined ? undefined
      : guidanceScaleEmbedding(opts.guidanceScale ?? LCM_DEFAULT_GUIDANCE, cIn.dims[1] as number);
    const hiddenItem = hiddenStates.length / hiddenDims[0];
    const xlFeeds = this.xlFeeds(sampleDims[0], opts);
    return inChunks(sample, sampleDims, fixedBatch(sIn) ?? sampleDims[0], async (part, partDims, first) => {
      const n = partDims[0];
      const hidden = hiddenStates.subarray(first * hiddenItem, (first + n) * hiddenItem);
      const feeds: Record<string, TensorValue> = {
        [sIn.name]: floatFeed(sIn, unet, part, partDims),
        [tIn.name]: timestepFeed(tIn, unet, timestep, n),
        [hIn.name]: this.hiddenFeed(hIn, hiddenStates, first, n, hidden, [n, ...hiddenDims.slice(1)]),
      };
      if (cIn !== undefined && embedding !== undefined) {
        const repeated = new Float32Array(n * embedding.length);
        for (let i = 0; i < n; i++) repeated.set(embedding, i * embedding.length);
        feeds[cIn.name] = floatFeed(cIn, unet, repeated, [n, embedding.length]);
      }
      for (const x of xlFeeds) feeds[x.desc.name] = floatFeed(x.desc, unet, x.rows.subarray(first * x.width, (first + n) * x.width), [n, x.width]);
      const result = await unet.run(feeds);
      return toFloat32(result[output.name].data, `${unet.file} output ${output.name}`);
    });
  }

  /** SDXL's text_embeds and time_ids for a UNet batch of `batch` (none for other UNets); their lengths checked. */
  private xlFeeds(batch: number, opts: PredictNoiseExtras): { desc: ValueDescription; rows: Float32Array; width: number }[] {
    const unet = this.s.unet;
    if (this.s.textEncoder2 === undefined) return [];
    const out: { desc: ValueDescription; rows: Float32Array; width: number }[] = [];
    for (const [name, rows] of [['text_embeds', opts.textEmbeds], ['time_ids', opts.timeIds]] as const) {
      const desc = unet.input(name) as ValueDescription;
      if (rows === undefined) throw new RangeError(`predictNoise: this SDXL UNet needs ${name} (one row per batch item)`);
      const width = rows.length / batch;
      const declared = desc.dims[1];
      if (!Number.isInteger(width) || width === 0 || (typeof declared === 'number' && declared !== width)) {
        throw new RangeError(`predictNoise: ${name} has ${rows.length} values for a batch of ${batch}; the UNet declares [${desc.dims.join(', ')}]`);
      }
      out.push({ desc, rows, width });
    }
    return out;
  }

  /** encoder_hidden_states rows first…first+n as the UNet declares them; float16 conversions cached per array. */
  private hiddenFeed(desc: ValueDescription, source: Float32Array, first: number, n: number,
    rows: Float32Array, dims: number[]): TensorValue {
    if (desc.type !== 'float16') return floatFeed(desc, this.s.unet, rows, dims);
    if (this.hiddenFp16?.source !== source) this.hiddenFp16 = { source, feeds: new Map() };
    const key = `${first}:${n}:${dims.join('x')}`;
    let feed = this.hiddenFp16.feeds.get(key);
    if (feed === undefined) {
      feed = floatFeed(desc, this.s.unet, rows, dims);
      this.hiddenFp16.feeds.set(key, feed);
    }
    return feed;
  }

  /**
   * One image at a time, as diffusers' ONNX pipeline does: bounded memory at 512² and up, same speed on CPU. With
   * opts.tiling, each image in diffusers' overlapping tiles (tiled_decode): the memory of one tile at any size.
   */
  async decodeLatents(latents: Float32Array, latentDims: number[], opts: DecodeOptions = {}): Promise<Float32Array> {
    this.check();
    checkLength('decodeLatents', latents, latentDims);
    const vae = this.s.vaeDecoder;
    const input = pickInput(vae, 'latent_sample');
    const output = pickOutput(vae, ['sample']);
    const run = async (part: Float32Array, partDims: number[]): Promise<Float32Array> => {
      const result = await vae.run({ [input.name]: floatFeed(input, vae, part, partDims) });
      return toFloat32(result[output.name].data, `${vae.file} output ${output.name}`);
    };
    // diffusers: vae.decode(latents / scaling_factor), a float32 division.
    const scaled = divide(latents, this.info.scalingFactor);
    const { tiling } = opts;
    const images = await inChunks(scaled, latentDims, 1, (part, partDims) =>
      (tiling === undefined ? run(part, partDims) : decodeTiled(part, partDims, tiling, (tile, dims) => run(tile, dims))));
    checkFinite(vae, images, input.type === 'float16');
    return images;
  }

  async encodeImage(image: Float32Array, imageDims: number[]): Promise<Float32Array> {
    this.check();
    checkLength('encodeImage', image, imageDims);
    const vae = await this.encoder();
    if (vae === undefined) {
      throw new ModelError('missing-file', join(this.info.dir, COMPONENT_FILES.vaeEncoder),
        `Missing ${join(this.info.dir, COMPONENT_FILES.vaeEncoder)}: this model cannot do img2img`);
    }
    return scale(await this.runEncoder(vae, image, imageDims), this.info.scalingFactor);
  }

  async encodeImageDistribution(image: Float32Array, imageDims: number[]): Promise<LatentDistribution> {
    this.check();
    checkLength('encodeImageDistribution', image, imageDims);
    const vae = await this.encoder();
    if (vae === undefined) {
      throw new ModelError('missing-file', join(this.info.dir, COMPONENT_FILES.vaeEncoder),
        `Missing ${join(this.info.dir, COMPONENT_FILES.vaeEncoder)}: this model cannot do img2img`);
    }
    const parts = await this.runEncoderParts(vae, image, imageDims);
    return parts.length === 1 ? { mean: parts[0] } : { mean: parts[0], logvar: parts[1] };
  }

  async vaeEncoderNoiseWarning(): Promise<string | undefined> {
    this.check();
    if (this.encoderNoiseChecked) return undefined;
    const vae = await this.encoder();
    if (vae === undefined) return undefined;
    this.encoderNoiseChecked = true;
    const dims = pickInput(vae, 'sample').dims;
    const side = (d: number | string | undefined): number => (typeof d === 'number' && d > 0 ? d : NOISE_CHECK_SIDE);
    const imageDims = [1, 3, side(dims[2]), side(dims[3])];
    const count = imageDims.reduce((a, b) => a * b, 1);
    const image = Float32Array.from({ length: count }, (_, i) => Math.fround(Math.sin(i * 0.37) * 0.8));
    let a: Float32Array;
    let b: Float32Array;
    try {
      [a, b] = [await this.runEncoder(vae, image, imageDims), await this.runEncoder(vae, image, imageDims)];
    } catch {
      // A diagnostic only: an encoder that cannot take the probe image (fixed sizes not declared) is not judged;
      // the real image has already been encoded, so a broken encoder has already said so.
      return undefined;
    }
    // CPU kernels repeat bit for bit; GPU ones may reorder sums, so allow float32 rounding there (far below the
    // posterior's noise).
    const tolerance = vae.executionProvider === 'cpu' ? 0 : 1e-6 * (1 + a.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
    return a.some((v, i) => !Object.is(v, b[i]) && !(Math.abs(v - b[i]) <= tolerance)) ? VAE_ENCODER_NOISE_WARNING : undefined;
  }

  /** The VAE encoder's session, opened on first use; undefined when the model has none. */
  private encoder(): Promise<OnnxSession | undefined> {
    const open = this.s.openVaeEncoder;
    if (open === undefined) return Promise.resolve(undefined);
    this.vaeEncoder ??= open();
    this.vaeEncoder.catch(() => { this.vaeEncoder = undefined; }); // a failed open is tried again next time
    return this.vaeEncoder;
  }

  /** Image B×3×H×W → unscaled latents B×C×h×w (the mean where the encoder gives mean and log-variance). */
  private async runEncoder(vae: OnnxSession, image: Float32Array, imageDims: number[]): Promise<Float32Array> {
    return (await this.runEncoderParts(vae, image, imageDims))[0];
  }

  /** Image B×3×H×W → [latents] or, from `latent_parameters`, [mean, log-variance], unscaled, B×C×h×w each. */
  private async runEncoderParts(vae: OnnxSession, image: Float32Array, imageDims: number[]): Promise<Float32Array[]> {
    const input = pickInput(vae, 'sample');
    const output = pickOutput(vae, ['latent_parameters', 'latent_sample', 'latent_dist']);
    const c = this.info.latentChannels;
    const items: Float32Array[][] = [];
    await inChunks(image, imageDims, 1, async (part, partDims) => {
      const result = (await vae.run({ [input.name]: floatFeed(input, vae, part, partDims) }))[output.name];
      const data = toFloat32(result.data, `${vae.file} output ${output.name}`);
      const channels = result.dims[1];
      if (channels === c) items.push([data]);
      // latent_parameters: mean (C channels) then log-variance (C channels) of each image.
      else if (channels === 2 * c) items.push([data.slice(0, data.length / 2), data.slice(data.length / 2)]);
      else fail(vae, `output "${output.name}" has ${channels} channels, expected ${c} (latents) or ${2 * c} (mean and log-variance)`);
      return data;
    });
    return items[0].map((_, k) => concat(items.map((parts) => parts[k])));
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const encoder = await this.vaeEncoder?.catch(() => undefined);
    const skips = await Promise.all([...this.clipSkipEncoders.values()].map((p) => p.then((x) => x.session, () => undefined)));
    const all = [this.s.textEncoder, this.s.textEncoder2, this.s.unet, this.s.vaeDecoder, encoder, ...skips];
    await Promise.all(all.map((s) => s?.release()));
  }
}
