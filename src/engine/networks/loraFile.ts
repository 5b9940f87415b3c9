/**
 * A LoRA file's layers as module keys of the model (onnxWeights.ts moduleKey: a module path spelled with `_`), in
 * the namings users' files come in:
 * - kohya-ss / A1111: `lora_unet_<module>.lora_down.weight`, `.lora_up.weight`, `.alpha`; `lora_te_` (SD 1.x/2.x text
 *   encoder), SDXL `lora_te1_` / `lora_te2_`; SDXL files trained on the LDM UNet name its blocks `input_blocks_4_1…`,
 *   renamed to diffusers' blocks exactly as diffusers does it (loaders/lora_conversion_utils.py
 *   `_maybe_map_sgm_blocks_to_diffusers` and `_convert_unet_lora_key`, ported below); LoCon conv layers (3×3 down,
 *   1×1 up) are ordinary layers here.
 * - diffusers / PEFT: `unet.<module>.lora_A.weight` / `lora_B.weight` (`text_encoder.`, `text_encoder_2.`), alphas
 *   from `<module>.alpha` keys or the `lora_adapter_metadata` diffusers writes into the header; the older attention-
 *   processor spelling (`…attn1.processor.to_q_lora.down.weight`) too.
 * LoHa / LoKr / LoCon's Tucker middle and DoRA are refused with the reason; `.pt`/`.ckpt` files are not read at all.
 */
import { basename, extname } from 'node:path';
import { readSafetensors, SafetensorsError, tensorFloat32, type SafetensorsFile } from './safetensors';

export type Component = 'unet' | 'text_encoder' | 'text_encoder_2';

export interface LoraLayer {
  /** The layer's name as the file spells it (messages name it). */
  readonly name: string;
  readonly component: Component;
  /** moduleKey of the target module (`down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q`). */
  readonly key: string;
  readonly down: Float32Array;
  readonly downShape: readonly number[];
  readonly up: Float32Array;
  readonly upShape: readonly number[];
  /** alpha / rank (1 where the file gives no alpha). */
  readonly scale: number;
}

export interface LoraNetwork {
  readonly file: string;
  readonly layers: readonly LoraLayer[];
  /** Layers the file has that cannot be applied (LoHa, LoKr…), with the reason. */
  readonly refused: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
  /** kohya's "addnet" hash: sha256 of the bytes after the header (A1111's Lora hash for .safetensors). */
  readonly dataStart: number;
  readonly bytes: Uint8Array;
}

/** A LoRA that cannot be read at all; the message names the file. */
export class LoraError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${basename(file)}: ${message}`);
    this.name = 'LoraError';
  }
}

/** diffusers' `_maybe_map_sgm_blocks_to_diffusers` on kohya names (delimiter `_`, block id at position 4, inner at 5). */
export function mapSgmBlocks(names: readonly string[], layersPerBlock: number): Map<string, string> {
  const sgm = ['input_blocks', 'middle_block', 'output_blocks'];
  const notSgm = ['down_blocks', 'mid_block', 'up_blocks'];
  const out = new Map<string, string>();
  const hasSgm = names.some((n) => sgm.some((p) => n.includes(p)));
  const hasNot = names.some((n) => !sgm.some((p) => n.includes(p)) && notSgm.some((p) => n.includes(p)));
  if (!hasSgm) return new Map(names.map((n) => [n, n]));
  if (hasNot) {
    // both spellings: diffusers drops the sgm ones
    for (const n of names) if (!sgm.some((p) => n.includes(p))) out.set(n, n);
    return out;
  }
  const inner = ['resnets', 'attentions', 'upsamplers'];
  for (const key of names) {
    const parts = key.split('_');
    if (key.includes('text') || !sgm.some((p) => key.includes(p)) || key.includes('input_blocks_0_0')) {
      out.set(key, key);
      continue;
    }
    const id = Number(parts[4]);
    if (key.includes('input_blocks')) {
      const blockId = Math.floor((id - 1) / (layersPerBlock + 1));
      const layer = (id - 1) % (layersPerBlock + 1);
      const innerId = Number(parts[5]);
      const innerKey = key.includes('op') ? 'downsamplers' : inner[innerId];
      const layerKey = key.includes('op') ? '0' : String(layer);
      out.set(key, [...parts.slice(0, 4), String(blockId), innerKey, layerKey, ...parts.slice(6)].join('_'));
    } else if (key.includes('middle_block')) {
      const part = id === 0 ? ['resnets', '0'] : id === 1 ? ['attentions', '0'] : id === 2 ? ['resnets', '1'] : undefined;
      if (part === undefined) continue;
      out.set(key, [...parts.slice(0, 4), ...part, ...parts.slice(5)].join('_'));
    } else {
      const blockId = Math.floor(id / (layersPerBlock + 1));
      const layer = id % (layersPerBlock + 1);
      const innerId = Number(parts[5]);
      out.set(key, [...parts.slice(0, 4), String(blockId), inner[innerId], innerId < 2 ? String(layer) : '0', ...parts.slice(6)].join('_'));
    }
  }
  return out;
}

/** diffusers' `_convert_unet_lora_key` for the module part of a kohya UNet name (after mapSgmBlocks), as a module key. */
export function kohyaUnetKey(module: string): string {
  let n = module.replace(/_/g, '.');
  n = n.replace('input.blocks.0.0', 'conv_in').replace('out.2', 'conv_out');
  const pairs: Array<[string, string]> = [
    ['input.blocks', 'down_blocks'], ['down.blocks', 'down_blocks'], ['middle.block', 'mid_block'], ['mid.block', 'mid_block'],
    ['output.blocks', 'up_blocks'], ['up.blocks', 'up_blocks'], ['transformer.blocks', 'transformer_blocks'],
    ['proj.in', 'proj_in'], ['proj.out', 'proj_out'], ['emb.layers', 'time_emb_proj'], ['conv.in', 'conv_in'],
    ['conv.out', 'conv_out'], ['time.embed.0', 'time_embedding.linear_1'], ['time.embed.2', 'time_embedding.linear_2'],
    ['label.emb.0.0', 'add_embedding.linear_1'], ['label.emb.0.2', 'add_embedding.linear_2'],
    ['time.embedding.linear.1', 'time_embedding.linear_1'], ['time.embedding.linear.2', 'time_embedding.linear_2'],
  ];
  for (const [a, b] of pairs) n = n.split(a).join(b);
  if (n.includes('emb') && !n.includes('time.emb.proj')) n = n.replace(/\.\d+(?=\D*$)/, '');
  if (n.includes('.in.')) n = n.split('in.layers.2').join('conv1');
  if (n.includes('.out.')) n = n.split('out.layers.3').join('conv2');
  if (n.includes('downsamplers') || n.includes('upsamplers')) n = n.split('op').join('conv');
  if (n.includes('skip')) n = n.split('skip.connection').join('conv_shortcut');
  return n.replace(/\./g, '_');
}

const COMPONENTS: readonly Component[] = ['unet', 'text_encoder', 'text_encoder_2'];

/** The old diffusers attention-processor spelling → the module path (`attn1.processor.to_q_lora` → `attn1.to_q`). */
function diffusersModule(path: string): string {
  return path.replace('.processor.', '.')
    .replace(/\.to_(q|k|v)_lora$/, '.to_$1').replace(/\.to_out_lora$/, '.to_out.0')
    .replace(/self_attn\.to_(q|k|v)$/, 'self_attn.$1_proj').replace(/self_attn\.to_out\.0$/, 'self_attn.out_proj')
    .replace(/\.lora_linear_layer$/, '').replace(/\.lora$/, '');
}

interface Pair { down?: string; up?: string; alpha?: string; component: Component; key: string; name: string }

/** Alpha from diffusers' adapter metadata (`unet.lora_alpha`, `unet.alpha_pattern`) for a module, if given. */
function metadataAlpha(meta: Readonly<Record<string, string>>, component: Component, module: string): number | undefined {
  const raw = meta.lora_adapter_metadata;
  if (raw === undefined) return undefined;
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const pattern = parsed[`${component}.alpha_pattern`];
  if (typeof pattern === 'object' && pattern !== null) {
    for (const [p, v] of Object.entries(pattern as Record<string, unknown>)) {
      if (typeof v === 'number' && (module === p || module.endsWith(`.${p}`))) return v;
    }
  }
  const alpha = parsed[`${component}.lora_alpha`];
  return typeof alpha === 'number' ? alpha : undefined;
}

/** The layers of a parsed safetensors LoRA; `layersPerBlock` is the UNet's (SDXL LDM block names need it). */
export function loraLayers(st: SafetensorsFile, layersPerBlock = 2): LoraNetwork {
  const names = [...st.tensors.keys()];
  const refused: string[] = [];
  const pairs = new Map<string, Pair>();
  const isKohya = names.some((n) => /^lora_(unet|te|te1|te2)_/.test(n));
  const sgm = isKohya ? mapSgmBlocks([...new Set(names.filter((n) => n.startsWith('lora_unet_')).map((n) => n.split('.')[0]))], layersPerBlock) : new Map<string, string>();
  const lycoris = new Set<string>();
  for (const name of names) {
    const dot = name.indexOf('.');
    if (/\.(hada_w1_a|hada_w1_b|hada_w2_a|hada_w2_b|hada_t1|hada_t2)$/.test(name)) { lycoris.add('LoHa'); continue; }
    if (/\.(lokr_w1|lokr_w2|lokr_w1_a|lokr_w1_b|lokr_w2_a|lokr_w2_b|lokr_t2)$/.test(name)) { lycoris.add('LoKr'); continue; }
    if (/\.(lora_mid\.weight)$/.test(name)) { lycoris.add('LoCon with a Tucker middle (lora_mid)'); continue; }
    if (/\.(dora_scale|lora_magnitude_vector(\.weight)?)$/.test(name)) { lycoris.add('DoRA'); continue; }
    let pair: Pair | undefined;
    let role: 'down' | 'up' | 'alpha' | undefined;
    if (isKohya && dot > 0) {
      const base = name.slice(0, dot);
      const rest = name.slice(dot + 1);
      role = rest === 'lora_down.weight' ? 'down' : rest === 'lora_up.weight' ? 'up' : rest === 'alpha' ? 'alpha' : undefined;
      if (role === undefined) continue;
      let component: Component;
      let key: string;
      if (base.startsWith('lora_unet_')) {
        const mapped = sgm.get(base);
        if (mapped === undefined) continue;
        component = 'unet';
        key = kohyaUnetKey(mapped.slice('lora_unet_'.length));
      } else if (base.startsWith('lora_te2_')) {
        component = 'text_encoder_2';
        key = base.slice('lora_te2_'.length);
      } else if (base.startsWith('lora_te1_') || base.startsWith('lora_te_')) {
        component = 'text_encoder';
        key = base.slice(base.indexOf('_', 5) + 1);
      } else continue;
      pair = pairs.get(base) ?? { component, key, name: base };
      pairs.set(base, pair);
    } else {
      const m = /^(unet|text_encoder|text_encoder_2)\.(.+?)\.(lora_A\.weight|lora_B\.weight|lora_down\.weight|lora_up\.weight|lora\.down\.weight|lora\.up\.weight|down\.weight|up\.weight|alpha)$/.exec(name);
      if (m === null) continue;
      const component = m[1] as Component;
      const module = diffusersModule(m[2]);
      role = /lora_A|down/.test(m[3]) ? 'down' : /lora_B|up/.test(m[3]) ? 'up' : 'alpha';
      const id = `${component}.${module}`;
      pair = pairs.get(id) ?? { component, key: module.replace(/\./g, '_'), name: id };
      pairs.set(id, pair);
    }
    pair[role] = name;
  }
  for (const kind of lycoris) refused.push(`${kind} layers are not supported (only LoRA and LoCon: up·down products); they were skipped`);
  const layers: LoraLayer[] = [];
  for (const pair of pairs.values()) {
    if (pair.down === undefined || pair.up === undefined) {
      if (pair.down !== undefined || pair.up !== undefined) refused.push(`${pair.name}: has only its ${pair.down === undefined ? 'up' : 'down'} factor`);
      continue;
    }
    const downT = st.tensors.get(pair.down)!;
    const upT = st.tensors.get(pair.up)!;
    const rank = downT.shape[0];
    if (downT.shape.length < 2 || upT.shape.length < 2 || upT.shape[1] !== rank || (downT.shape.length === 4 && upT.shape.length === 4 && (upT.shape[2] !== 1 || upT.shape[3] !== 1))) {
      refused.push(`${pair.name}: factor shapes [${downT.shape.join(', ')}] (down) and [${upT.shape.join(', ')}] (up) do not make a product`);
      continue;
    }
    let alpha: number | undefined;
    if (pair.alpha !== undefined) {
      const a = tensorFloat32(st, st.tensors.get(pair.alpha)!);
      if (a.length !== 1) throw new LoraError(st.file, `"${pair.alpha}" should hold one number, it holds ${a.length}`);
      alpha = a[0];
    } else if (!isKohya) {
      alpha = metadataAlpha(st.metadata, pair.component, pair.name.slice(pair.component.length + 1));
    }
    const component = pair.component;
    const key = component === 'unet' ? pair.key : pair.key.startsWith('text_model_') ? pair.key : `text_model_${pair.key}`;
    layers.push({
      name: pair.name, component, key,
      down: tensorFloat32(st, downT), downShape: downT.shape,
      up: tensorFloat32(st, upT), upShape: upT.shape,
      scale: alpha === undefined || alpha === 0 ? 1 : alpha / rank,
    });
  }
  if (layers.length === 0 && refused.length === 0) {
    throw new LoraError(st.file, `no LoRA layers found (expected kohya names lora_unet_…/lora_te_… or diffusers names unet.….lora_A.weight; `
      + `its first tensors: ${names.slice(0, 3).join(', ') || 'none'})`);
  }
  return { file: st.file, layers, refused, metadata: st.metadata, dataStart: st.dataStart, bytes: st.bytes };
}

/**
 * A layer with only its first ranks, as A1111's `dyn` uses them (lyco_helpers.rebuild_conventional: `up[:, :dyn]`,
 * `down[:dyn, :]`, Python's slicing: a negative dyn drops that many from the end); the scale stays alpha / the
 * file's rank (A1111's calc_scale). Undefined when no rank is left (the layer adds nothing).
 */
export function truncateRank(layer: LoraLayer, dyn: number): LoraLayer | undefined {
  const rank = layer.downShape[0];
  const n = dyn < 0 ? Math.max(0, rank + dyn) : Math.min(dyn, rank);
  if (n === rank) return layer;
  if (n === 0) return undefined;
  const inner = layer.down.length / rank;
  const out = layer.upShape[0];
  const up = new Float32Array(out * n);
  for (let o = 0; o < out; o++) up.set(layer.up.subarray(o * rank, o * rank + n), o * n);
  return {
    ...layer,
    down: layer.down.slice(0, n * inner), downShape: [n, ...layer.downShape.slice(1)],
    up, upShape: [out, n, ...layer.upShape.slice(2)],
  };
}

/** Reads a LoRA file: `.safetensors` only (pickled `.pt`/`.ckpt`/`.bin` files are refused: loading them runs code). */
export async function readLora(file: string, layersPerBlock = 2): Promise<LoraNetwork> {
  const ext = extname(file).toLowerCase();
  if (ext !== '.safetensors') {
    throw new LoraError(file, `${ext || 'this'} LoRA files are Python pickles, which are not loaded (loading one can run code): `
      + 'convert it to .safetensors (e.g. with kohya-ss sd-scripts or the safetensors convert tool)');
  }
  try {
    return loraLayers(await readSafetensors(file), layersPerBlock);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new LoraError(file, e.message.slice(basename(file).length + 2));
    throw e;
  }
}

export { COMPONENTS };
