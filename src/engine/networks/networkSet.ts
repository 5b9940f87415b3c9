/**
 * A set of LoRAs (each with its text-encoder and UNet weight) and textual-inversion embeddings applied to a model
 * folder: the patched copies of the components they change, in a cache folder keyed by the base model's files, the
 * LoRA files' hashes and weights and the embeddings' hashes — built once (patchModel.ts), reused while the same set
 * comes again, the least recently used sets evicted past a size limit. The model folder is never written.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { COMPONENT_FILES } from '../model';
import { readEmbedding, type Embedding } from './embeddingFile';
import { isMarkedLcm, type LibraryEntry, type LoraRequest } from './library';
import { readLora, truncateRank, type Component, type LoraNetwork } from './loraFile';
import { indexGraphWeights, poolsAtArgmaxOfIds, tokenEmbedding } from './onnxWeights';
import { patchComponent, type WeightedLayer } from './patchModel';

/** Default size limit of the cache folder (patched copies; hard links to unchanged files are not counted). */
export const DEFAULT_CACHE_LIMIT = 16 * 1024 ** 3;

export interface NetworkSetInput {
  readonly modelDir: string;
  readonly xl: boolean;
  /** The UNet's layers_per_block (SDXL LoRAs with LDM block names need it); 2 when the folder does not say. */
  readonly layersPerBlock: number;
  readonly loras: readonly LoraRequest[];
  /** Embeddings the prompts may use (their names appear in them). */
  readonly embeddings: readonly LibraryEntry[];
  readonly cacheDir: string;
  readonly cacheLimitBytes?: number;
  /** SDXL: text_encoder_2's end-of-text id, for A1111's pooled output with embeddings (pooledEosId below). */
  readonly eosId2?: number;
  readonly log?: (message: string) => void;
  /**
   * Component files to patch instead of the folder's (the fp32 copies of an fp16 model on the CPU, fp32Cache.ts):
   * LoRAs are then applied to the fp32 weights, and nothing is converted twice.
   */
  readonly sourceFiles?: Partial<Record<Component, string>>;
}

/** An embedding as the prompt's chunker needs it: its name and the token ids of its vectors. */
export interface EmbeddingIds { readonly name: string; readonly ids: readonly number[] }

export interface AppliedNetworks {
  /** '' when nothing is applied (the model loads from its own folder). */
  readonly key: string;
  /** Component → the patched model file to load instead of the folder's. */
  readonly files: Partial<Record<Component, string>>;
  readonly warnings: string[];
  /** Lines for the log: what each LoRA changed. */
  readonly notes: string[];
  readonly infotext: Array<[string, string]>;
  readonly embeddings: readonly EmbeddingIds[];
  /**
   * SDXL with embeddings, when text_encoder_2 pools at argmax(input_ids): the id of a copy of its end-of-text row,
   * the table's largest id, to write for the end of text so the pooled output is taken there as A1111 takes it (its
   * embedding positions hold id 0) and not at the embedding ids (49408 + k), where diffusers' argmax lands.
   */
  readonly pooledEosId?: number;
  /** True when one of the LoRAs is an LCM-LoRA (marked beside it or by the catalog). */
  readonly lcm: boolean;
  readonly timingsMs: { readonly read: number; readonly patch: number; readonly cacheHit: boolean };
}

const COMPONENT_FILE: Readonly<Record<Component, string>> = {
  unet: COMPONENT_FILES.unet, text_encoder: COMPONENT_FILES.textEncoder, text_encoder_2: COMPONENT_FILES.textEncoder2,
};

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** A1111's Lora hash: the safetensors metadata's sshs_model_hash, else kohya's addnet hash (sha256 after the header), 12 hex. */
export function loraShortHash(net: Pick<LoraNetwork, 'metadata' | 'bytes' | 'dataStart'>): string {
  const given = net.metadata.sshs_model_hash;
  return (given !== undefined && given !== '' ? given : sha256(net.bytes.subarray(net.dataStart))).slice(0, 12);
}

/** A1111's infotext names: `:` and `,` removed. */
const infotextName = (name: string): string => name.replace(/[:,]/g, '');

interface Manifest {
  readonly files: Partial<Record<Component, string>>;
  readonly notes: string[];
  readonly warnings: string[];
  readonly embeddings: EmbeddingIds[];
  readonly pooledEosId?: number;
}

const nowMs = (): number => performance.now();

/** The model file a component's patched copy is made from. */
const sourceOf = (input: NetworkSetInput, component: Component): string =>
  input.sourceFiles?.[component] ?? join(input.modelDir, COMPONENT_FILE[component]);

async function componentStat(input: NetworkSetInput, component: Component): Promise<string> {
  try {
    const s = await stat(sourceOf(input, component));
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/** Reads the set's files, then loads its patched copies from the cache or writes them there. */
export async function applyNetworks(input: NetworkSetInput): Promise<AppliedNetworks> {
  const warnings: string[] = [];
  const infotext: Array<[string, string]> = [];
  const readStart = nowMs();
  const loras: Array<{ req: LoraRequest; net: LoraNetwork }> = [];
  let lcm = false;
  for (const req of input.loras) {
    try {
      const net = await readLora(req.file, input.layersPerBlock);
      loras.push({ req, net });
      if (isMarkedLcm(req.file)) lcm = true;
      for (const r of net.refused) warnings.push(`LoRA ${req.name}: ${r}`);
    } catch (e) {
      warnings.push(`${e instanceof Error ? e.message : String(e)}; <lora:${req.name}> was not applied`);
    }
  }
  const embeddings: Embedding[] = [];
  const embeddingHashes: string[] = [];
  for (const entry of input.embeddings) {
    try {
      const emb = await readEmbedding(entry.file);
      embeddings.push({ ...emb, name: entry.name });
      embeddingHashes.push(sha256(new Uint8Array(await readFile(entry.file))));
    } catch (e) {
      warnings.push(`${e instanceof Error ? e.message : String(e)}; the embedding ${entry.name} was not used`);
    }
  }
  const active = loras.filter(({ req }) => req.te !== 0 || req.unet !== 0);
  const hashes = loras.map(({ net }) => loraShortHash(net));
  if (loras.length > 0) infotext.push(['Lora hashes', loras.map(({ req }, i) => `${infotextName(req.name)}: ${hashes[i]}`).join(', ')]);
  if (embeddings.length > 0) infotext.push(['TI hashes', embeddings.map((e, i) => `${infotextName(e.name)}: ${embeddingHashes[i].slice(0, 12)}`).join(', ')]);
  const readMs = nowMs() - readStart;
  if (active.length === 0 && embeddings.length === 0) {
    return { key: '', files: {}, warnings, notes: [], infotext, embeddings: [], lcm, timingsMs: { read: readMs, patch: 0, cacheHit: false } };
  }

  const components: Component[] = input.xl ? ['unet', 'text_encoder', 'text_encoder_2'] : ['unet', 'text_encoder'];
  const keyParts = {
    v: 2, model: input.modelDir,
    stats: await Promise.all(components.map((c) => componentStat(input, c))),
    loras: active.map(({ req, net }) => [sha256(net.bytes), req.te, req.unet, ...(req.dyn === undefined ? [] : [req.dyn])]),
    embeddings: embeddings.map((e, i) => [e.name, embeddingHashes[i]]),
    ...(input.sourceFiles === undefined ? {} : { sources: components.map((c) => input.sourceFiles?.[c] ?? '') }),
  };
  const key = createHash('sha256').update(JSON.stringify(keyParts)).digest('hex').slice(0, 32);
  const dir = join(input.cacheDir, key);
  const manifestFile = join(dir, 'manifest.json');
  const patchStart = nowMs();
  let manifest: Manifest;
  let cacheHit = false;
  if (existsSync(manifestFile)) {
    manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest;
    const now = new Date();
    await utimes(manifestFile, now, now).catch(() => undefined);
    cacheHit = true;
  } else {
    await mkdir(input.cacheDir, { recursive: true });
    const tmp = `${dir}.partial-${process.pid}-${Date.now()}`;
    try {
      manifest = await build(input, active, embeddings, components, tmp);
      await writeFile(join(tmp, 'manifest.json'), JSON.stringify(manifest));
      await rm(dir, { recursive: true, force: true });
      await rename(tmp, dir);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
    await evict(input.cacheDir, key, input.cacheLimitBytes ?? DEFAULT_CACHE_LIMIT, input.log);
  }
  const patchMs = nowMs() - patchStart;
  const files: Partial<Record<Component, string>> = {};
  for (const [c, rel] of Object.entries(manifest.files) as Array<[Component, string]>) files[c] = join(dir, rel);
  return {
    // nothing left to patch (every embedding refused, every weight 0): the model loads from its own folder
    key: Object.keys(files).length === 0 ? '' : key, files, warnings: [...warnings, ...manifest.warnings], notes: manifest.notes, infotext,
    embeddings: manifest.embeddings, ...(manifest.pooledEosId === undefined ? {} : { pooledEosId: manifest.pooledEosId }),
    lcm, timingsMs: { read: readMs, patch: patchMs, cacheHit },
  };
}

async function build(input: NetworkSetInput, loras: ReadonlyArray<{ req: LoraRequest; net: LoraNetwork }>,
    embeddings: readonly Embedding[], components: readonly Component[], tmp: string): Promise<Manifest> {
  const warnings: string[] = [];
  const notes: string[] = [];
  const files: Partial<Record<Component, string>> = {};
  await mkdir(tmp, { recursive: true });
  const totals = new Map<string, { applied: number; skipped: string[]; layers: number }>();
  for (const { req, net } of loras) totals.set(req.name, { applied: 0, skipped: [], layers: net.layers.length });
  // Embedding rows: every usable embedding gets the same ids in each text encoder (vocab + offset).
  const usable = embeddings.filter((e) => {
    const needs: Component[] = input.xl ? ['text_encoder', 'text_encoder_2'] : ['text_encoder'];
    const missing = needs.filter((c) => e.vectors[c as 'text_encoder'] === undefined);
    if (missing.length > 0) {
      warnings.push(`${basename(e.file)}: the embedding has no vectors for ${missing.join(' and ')} (${input.xl ? 'an SD 1.x/2.x embedding on SDXL?' : 'an SDXL embedding?'}); it was not used`);
      return false;
    }
    return true;
  });
  // The token-embedding table's width in each text encoder: an embedding made for another model is left out.
  const textModels = new Map<Component, Uint8Array>();
  if (usable.length > 0) {
    for (const component of components.filter((c) => c !== 'unet')) {
      const source = sourceOf(input, component);
      const bytes = new Uint8Array(await readFile(source));
      textModels.set(component, bytes);
      const width = tokenEmbedding(indexGraphWeights(bytes, source, true))?.dims[1];
      for (let i = usable.length - 1; i >= 0; i--) {
        const e = usable[i];
        const have = e.widths[component as 'text_encoder'];
        if (have !== width) {
          warnings.push(`${basename(e.file)}: its vectors are ${have} wide, ${component}'s are ${width ?? 'not found'} (an embedding for another model?); it was not used`);
          usable.splice(i, 1);
        }
      }
    }
  }
  let embeddingIds: EmbeddingIds[] = [];
  let pooledEosId: number | undefined;
  for (const component of components) {
    const layers: WeightedLayer[] = [];
    for (const { req, net } of loras) {
      const weight = component === 'unet' ? req.unet : req.te;
      for (const full of net.layers) {
        if (full.component !== component) continue;
        const layer = req.dyn === undefined ? full : truncateRank(full, req.dyn);
        // dyn 0 keeps no rank: the layer adds nothing (weight 0 counts it as applied, as for <lora:name:0>)
        layers.push(layer === undefined ? { layer: full, weight: 0, network: req.name } : { layer, weight, network: req.name });
      }
    }
    const strayLayers = component === 'text_encoder' && !input.xl;
    if (strayLayers) {
      for (const { req, net } of loras) {
        const te2 = net.layers.filter((l) => l.component === 'text_encoder_2');
        if (te2.length > 0) totals.get(req.name)!.skipped.push(`${te2.length} layers for text_encoder_2 (an SDXL LoRA?): this model has one text encoder`);
      }
    }
    const isText = component !== 'unet';
    const rows = isText ? usable.map((e) => e.vectors[component as 'text_encoder']!) : [];
    if (layers.every((l) => l.weight === 0) && rows.length === 0) {
      for (const l of layers) totals.get(l.network)!.applied++;
      continue;
    }
    const source = sourceOf(input, component);
    const dest = join(tmp, component);
    let extraRows: Float32Array | undefined;
    if (rows.length > 0) {
      const n = rows.reduce((s, r) => s + r.length, 0);
      extraRows = new Float32Array(n);
      let at = 0;
      for (const r of rows) { extraRows.set(r, at); at += r.length; }
    }
    // A1111's pooled output: see AppliedNetworks.pooledEosId
    const model = textModels.get(component);
    const copyRow = component === 'text_encoder_2' && extraRows !== undefined && input.eosId2 !== undefined && model !== undefined
      && poolsAtArgmaxOfIds(model) ? input.eosId2 : undefined;
    const result = await patchComponent({ source, dest, layers, extraRows, textEncoder: isText, component, model, ...(copyRow === undefined ? {} : { copyRow }) });
    if (result.copiedRowId !== undefined) pooledEosId = result.copiedRowId;
    files[component] = join(component, basename(result.file));
    for (const [network, report] of result.reports) {
      const t = totals.get(network)!;
      t.applied += report.applied;
      t.skipped.push(...report.skipped);
    }
    if (result.vocabSize !== undefined && embeddingIds.length === 0) {
      let next = result.vocabSize;
      embeddingIds = usable.map((e) => {
        const ids = Array.from({ length: e.count }, (_, k) => next + k);
        next += e.count;
        return { name: e.name, ids };
      });
    }
  }
  for (const [name, t] of totals) {
    if (t.applied === 0) {
      warnings.push(`LoRA ${name}: none of its ${t.layers} layers fit this model (a LoRA for another base model, e.g. SDXL on SD 1.5?); it was not applied`
        + (t.skipped.length > 0 ? ` — e.g. ${t.skipped[0]}` : ''));
    } else if (t.skipped.length > 0) {
      warnings.push(`LoRA ${name}: ${t.applied} of ${t.layers} layers applied; not applied: ${t.skipped.slice(0, 5).join('; ')}${t.skipped.length > 5 ? `; and ${t.skipped.length - 5} more` : ''}`);
    }
    notes.push(`LoRA ${name}: ${t.applied} of ${t.layers} layers applied`);
  }
  return { files, notes, warnings, embeddings: embeddingIds, ...(pooledEosId === undefined ? {} : { pooledEosId }) };
}

/** Bytes a cache entry holds of its own (files with one link: copies; hard links to the model's files cost nothing). */
async function entryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const s = await stat(join(e.parentPath ?? dirname(join(dir, e.name)), e.name));
    if (s.nlink === 1) total += s.size;
  }
  return total;
}

/**
 * Removes the least recently used entries (not `keep`) until the cache is within `limit` bytes. An entry is a folder
 * with a manifest.json whose mtime is its last use (the fp32-copy cache, fp32Cache.ts, uses the same layout).
 */
export async function evict(cacheDir: string, keep: string, limit: number, log?: (m: string) => void, label = 'LoRA cache'): Promise<void> {
  const entries: Array<{ name: string; used: number; bytes: number }> = [];
  for (const e of await readdir(cacheDir, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.includes('.partial-')) continue;
    const dir = join(cacheDir, e.name);
    try {
      const used = (await stat(join(dir, 'manifest.json'))).mtimeMs;
      entries.push({ name: e.name, used, bytes: await entryBytes(dir) });
    } catch {
      // not an entry of ours
    }
  }
  let total = entries.reduce((s, e) => s + e.bytes, 0);
  for (const e of entries.sort((a, b) => a.used - b.used)) {
    if (total <= limit) break;
    if (e.name === keep) continue;
    await rm(join(cacheDir, e.name), { recursive: true, force: true });
    total -= e.bytes;
    log?.(`${label}: removed ${e.name} (${(e.bytes / 1024 ** 2).toFixed(0)} MiB, least recently used)`);
  }
}
