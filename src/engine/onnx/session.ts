/**
 * The only file that imports onnxruntime-node (loaded lazily, on the first session): sessions created by path
 * with execution providers tried one by one (ORT does not fall back by itself), their inputs and outputs
 * described from the session metadata, runs with plain typed-array feeds, and ORT's plain Errors classified
 * into ModelErrors that name the file (REFERENCE.md "onnxruntime-node 1.30 on these machines").
 */
import { availableParallelism, cpus } from 'node:os';
import type * as Ort from 'onnxruntime-node';
import { ORT_OVERRIDE_ENV } from '../../protocol/engineEnv';
import type { ExecutionProviderSetting } from '../../protocol/engineMessages';
import { concat, encodeVarint, lengthDelimited, ModelError } from '../model';

/** The tensor element types the engine feeds and reads. */
export type TensorType = 'float32' | 'float16' | 'int32' | 'int64' | 'float64' | 'other';

/** A typed-array payload for each feed type (float16 as bit patterns). */
export type TensorData = Float32Array | Uint16Array | Int32Array | BigInt64Array | Float64Array;

/** A tensor as the engine passes it: data plus dims. */
export interface TensorValue {
  readonly type: Exclude<TensorType, 'other'>;
  readonly data: TensorData;
  readonly dims: readonly number[];
}

/** What a session declares for one input or output. `dims` entries are sizes or symbolic names. */
export interface ValueDescription {
  readonly name: string;
  readonly type: TensorType;
  /** Declared dims; [] for a scalar (or an undeclared shape, which ORT reports the same way). */
  readonly dims: readonly (number | string)[];
}

export interface SessionOptions {
  readonly executionProvider?: ExecutionProviderSetting;
  /** intra-op threads; default defaultThreadCount(). */
  readonly threads?: number;
  readonly log?: (message: string) => void;
  /** The model's bytes, already read (and changed in memory): loaded from these; `file` names it in messages. */
  readonly bytes?: Uint8Array;
  /**
   * With `bytes`: the folder their external data files are read from (ONNX Runtime reads them from the working
   * directory otherwise) — the folder of `file`.
   */
  readonly externalDataFolder?: string;
}

export interface OnnxSession {
  readonly file: string;
  /** The execution provider that created the session ("cpu", "cuda", …). */
  readonly executionProvider: string;
  readonly inputs: readonly ValueDescription[];
  readonly outputs: readonly ValueDescription[];
  input(name: string): ValueDescription | undefined;
  run(feeds: Readonly<Record<string, TensorValue>>): Promise<Record<string, { type: TensorType; data: unknown; dims: readonly number[] }>>;
  release(): Promise<void>;
}

type Ep = 'cpu' | 'cuda' | 'dml' | 'coreml';

let ortModule: typeof Ort | undefined;
/** Providers that failed once in this process, with the reason (not retried for later sessions). */
const unavailable = new Map<Ep, string>();
/** Providers that started once in this process (sessionProvider does not try them again). */
const started = new Set<Ep>();

let ortOverrideError: string | undefined;
let ortOverrideLogged = false;

function requireOrt(): typeof Ort {
  const override = process.env[ORT_OVERRIDE_ENV];
  if (override !== undefined && override !== '') {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require(override) as typeof Ort;
    } catch (e) {
      ortOverrideError = `could not load onnxruntime-node from ${override} (${messageOf(e)}); using the bundled one`;
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('onnxruntime-node') as typeof Ort;
}

/** Providers that could not start in this process, with ONNX Runtime's reason. */
export function unavailableProviders(): ReadonlyMap<string, string> {
  return unavailable;
}

/**
 * ONNX Runtime (≥ 1.29, outside Windows) starts a telemetry uploader unless ORT_DISABLE_TELEMETRY=1 is set before
 * it loads: it keeps a SQLite event store under ~/.cache/Microsoft/DeveloperTools (fsynced on every start and exit,
 * ~7 ms of each) and a session file (/tmp/.ses here). This product runs on the user's machine for the user: the
 * uploader is off unless the user set the variable to something else.
 */
export const ORT_TELEMETRY_ENV = 'ORT_DISABLE_TELEMETRY';

function loadOrt(): typeof Ort {
  if (ortModule === undefined) {
    process.env[ORT_TELEMETRY_ENV] ??= '1';
    ortModule = requireOrt();
    // A failed CUDA probe would otherwise print a red native error on every 'auto' start without CUDA.
    if (ortModule.env.logLevel === undefined || ortModule.env.logLevel === 'warning') ortModule.env.logLevel = 'fatal';
  }
  return ortModule;
}

/** Default intra-op threads: half the logical CPUs (≈ physical cores), at least 1. */
export function defaultThreadCount(): number {
  const logical = typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
  return Math.max(1, Math.floor(logical / 2));
}

/** Providers to try, in order, for a setting: 'auto' = the platform's accelerator, then cpu. */
export function providerOrder(setting: ExecutionProviderSetting, platform: NodeJS.Platform = process.platform): Ep[] {
  if (setting === 'cpu') return ['cpu'];
  if (setting !== 'auto') return [setting, 'cpu'];
  if (platform === 'linux') return ['cuda', 'cpu'];
  if (platform === 'win32') return ['dml', 'cpu'];
  if (platform === 'darwin') return ['coreml', 'cpu'];
  return ['cpu'];
}

/**
 * The provider a session would be created on next, from what is known without trying: the first of the setting's
 * providers not known to be unavailable in this process (undefined when none is left).
 */
export function nextProvider(setting: ExecutionProviderSetting, known: ReadonlyMap<string, string> = unavailable,
    platform: NodeJS.Platform = process.platform): string | undefined {
  return providerOrder(setting, platform).find((ep) => !known.has(ep));
}

/** A one-node model (Identity of a float32 [1]) that any provider loads: what sessionProvider() tries providers with. */
function probeModel(): Uint8Array {
  const s = (num: number, v: string): Uint8Array => lengthDelimited(num, new TextEncoder().encode(v));
  const v = (num: number, value: number): Uint8Array => new Uint8Array([...encodeVarint(num * 8), ...encodeVarint(value)]);
  const valueInfo = (name: string): Uint8Array => concat([s(1, name),
    lengthDelimited(2, lengthDelimited(1, concat([v(1, 1), lengthDelimited(2, lengthDelimited(1, v(1, 1)))])))]);
  const node = concat([s(1, 'x'), s(2, 'y'), s(4, 'Identity')]);
  const graph = concat([lengthDelimited(1, node), s(2, 'probe'), lengthDelimited(11, valueInfo('x')), lengthDelimited(12, valueInfo('y'))]);
  return concat([v(1, 8), lengthDelimited(7, graph), lengthDelimited(8, v(2, 13))]);
}

/**
 * The provider the next session will run on, trying the setting's providers in order on a one-node model where it is
 * not known yet (a provider that fails is remembered as unavailable, as createSession does). Lets the engine choose
 * files for the provider before loading a large model (the fp32 copy of an fp16 model on the CPU).
 */
export async function sessionProvider(setting: ExecutionProviderSetting): Promise<string | undefined> {
  for (const ep of providerOrder(setting)) {
    if (unavailable.has(ep)) continue;
    if (ep === 'cpu' || started.has(ep)) return ep;
    try {
      const session = await loadOrt().InferenceSession.create(probeModel(), sessionOptionsFor(ep, 1));
      await session.release();
      started.add(ep);
      return ep;
    } catch (e) {
      const m = messageOf(e);
      if (!isProviderFailure(m)) return ep; // the provider runs; something else about the probe failed
      unavailable.set(ep, m);
    }
  }
  return undefined;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** True when ORT's message is about the provider itself rather than the model. */
function isProviderFailure(message: string): boolean {
  return /backend not found|no available backend|Failed to load shared library|ExecutionProvider|providers_shared|CUDA|cuDNN|DirectML|CoreML|adapter/i.test(message)
    && !/Protobuf parsing failed|doesn't exist|External data/i.test(message);
}

/** ORT's plain Error from loading or running `file` → a ModelError saying what is wrong in words. */
export function classifyOrtError(e: unknown, file: string, phase: 'load' | 'run'): ModelError {
  if (e instanceof ModelError) return e;
  const m = messageOf(e);
  const cause = { cause: e };
  const externalData = /External data path|external data file|external_data|ExternalData|GetExtDataFromTensorProto/i.test(m);
  if (/File doesn't exist|No such file|ENOENT/i.test(m) && !externalData) {
    return new ModelError('missing-file', file, `Missing ${file}: ONNX Runtime could not find it`, cause);
  }
  if (externalData) {
    const where = /"([^"]+)"/.exec(m)?.[1];
    return new ModelError('missing-external-data', file,
      `${file} keeps its weights in a separate file${where !== undefined ? ` (${where})` : ''} that is missing or unreadable: ` +
      'download it next to model.onnx (symlinks to other folders are refused by ONNX Runtime ≥ 1.24)', cause);
  }
  if (/Protobuf parsing failed|ModelProto|Failed to load model|INVALID_PROTOBUF|parse/i.test(m)) {
    return new ModelError('invalid-onnx', file,
      `${file} is not a valid ONNX model (it may be truncated by an interrupted download, or not an ONNX file): ${m}`, cause);
  }
  if (/bad_alloc|Failed to allocate|out of memory|OOM|Cannot allocate memory/i.test(m)) {
    return new ModelError('out-of-memory', file,
      `Out of memory while ${phase === 'load' ? 'loading' : 'running'} ${file}: try a smaller image size or batch, or close other programs. (${m})`, cause);
  }
  if (/is missing in 'feeds'|Invalid input name|invalid dimensions|Invalid rank|Unexpected input data type|input.*not found/i.test(m)) {
    return new ModelError('wrong-input', file,
      `${file} does not accept the inputs the engine gives it (a model with other input names, types or shapes?): ${m}`, cause);
  }
  if (/Unsupported data type|opset|not implemented|NOT_IMPLEMENTED|Could not find an implementation/i.test(m)) {
    return new ModelError('unsupported', file, `${file} uses something this ONNX Runtime does not support: ${m}`, cause);
  }
  return new ModelError('runtime', file, `ONNX Runtime failed while ${phase === 'load' ? 'loading' : 'running'} ${file}: ${m}`, cause);
}

function describe(meta: readonly Ort.InferenceSession.ValueMetadata[]): ValueDescription[] {
  return meta.map((m) => {
    if (!m.isTensor) return { name: m.name, type: 'other', dims: [] };
    const known: readonly string[] = ['float32', 'float16', 'int32', 'int64', 'float64'];
    const type = (known.includes(m.type) ? m.type : 'other') as TensorType;
    return { name: m.name, type, dims: [...m.shape] };
  });
}

/**
 * The session options of every session the engine opens (bench/bareOrt.mjs and `npm run bench:real` use the same).
 * Memory, measured on full-size SD 1.5 (README "Benchmarks", issue 15): ONNX Runtime's memory pattern plans one
 * block for each input shape it sees and keeps it — off, the UNet session's peak fell from 7.7 to 5.5 GiB with the
 * same steady step time (and no slow second call while it plans).
 */
export function sessionOptionsFor(ep: string, threads: number): Ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [ep as Ep],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableMemPattern: false,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

/** ONNX Runtime's session config key for where a model loaded from bytes finds its external data. */
export const EXTERNAL_DATA_FOLDER_KEY = 'model_external_initializers_file_folder_path';

function createOptions(ep: Ep, threads: number, externalDataFolder: string | undefined): Ort.InferenceSession.SessionOptions {
  const options = sessionOptionsFor(ep, threads);
  if (externalDataFolder === undefined) return options;
  const extra = options.extra as { session: Record<string, unknown> };
  return { ...options, extra: { ...extra, session: { ...extra.session, [EXTERNAL_DATA_FOLDER_KEY]: externalDataFolder } } };
}

/** Creates a session for the ONNX file at `file`, trying the setting's providers in order. */
export async function createSession(file: string, opts: SessionOptions = {}): Promise<OnnxSession> {
  const ort = loadOrt();
  const log = opts.log ?? (() => undefined);
  if (ortOverrideError !== undefined && !ortOverrideLogged) {
    ortOverrideLogged = true;
    log(ortOverrideError);
  }
  const threads = opts.threads ?? defaultThreadCount();
  const order = providerOrder(opts.executionProvider ?? 'auto');
  const failures: string[] = [];
  for (const ep of order) {
    const known = unavailable.get(ep);
    if (known !== undefined) {
      failures.push(`${ep}: ${known}`);
      continue;
    }
    let session: Ort.InferenceSession;
    try {
      session = opts.bytes === undefined
        ? await ort.InferenceSession.create(file, createOptions(ep, threads, undefined))
        : await ort.InferenceSession.create(opts.bytes, createOptions(ep, threads, opts.externalDataFolder));
    } catch (e) {
      const m = messageOf(e);
      if (ep !== 'cpu' && isProviderFailure(m)) {
        unavailable.set(ep, m);
        failures.push(`${ep}: ${m}`);
        log(`execution provider ${ep} unavailable, trying the next one: ${m}`);
        continue;
      }
      throw classifyOrtError(e, file, 'load');
    }
    return wrapSession(ort, session, file, ep);
  }
  throw new ModelError('provider-unavailable', file,
    `No execution provider could load ${file}; tried ${order.join(', ')}: ${failures.join('; ')}`);
}

/** Output tensor types passed on as they are; anything else is 'other'. */
const KNOWN_OUTPUT_TYPES: readonly string[] = ['float32', 'float16', 'int32', 'int64', 'float64'];

function wrapSession(ort: typeof Ort, session: Ort.InferenceSession, file: string, ep: Ep): OnnxSession {
  const inputs = describe(session.inputMetadata);
  const outputs = describe(session.outputMetadata);
  let released = false;
  return {
    file,
    executionProvider: ep,
    inputs,
    outputs,
    input: (name) => inputs.find((i) => i.name === name),
    async run(feeds) {
      if (released) throw new ModelError('runtime', file, `${file}: the session was released; load the model again`);
      const ortFeeds: Record<string, Ort.Tensor> = {};
      for (const [name, v] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(v.type, v.data, v.dims);
      let result: Ort.InferenceSession.ReturnType;
      try {
        result = await session.run(ortFeeds);
      } catch (e) {
        throw classifyOrtError(e, file, 'run');
      }
      const out: Record<string, { type: TensorType; data: unknown; dims: readonly number[] }> = {};
      for (const [name, value] of Object.entries(result)) {
        const t = value as Ort.Tensor;
        out[name] = { type: (KNOWN_OUTPUT_TYPES.includes(t.type) ? t.type : 'other') as TensorType, data: t.data, dims: t.dims };
      }
      return out;
    },
    async release() {
      if (released) return;
      released = true;
      await session.release();
    },
  };
}
