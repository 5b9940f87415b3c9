/**
 * Textual-inversion embeddings: the vectors a name in a prompt stands for. Layouts read (as A1111's
 * modules/textual_inversion/textual_inversion.py and diffusers' load_textual_inversion do):
 * - `emb_params` (A1111's .safetensors): [n, width];
 * - `clip_l` / `clip_g` (SDXL): [n, 768] and [n, 1280], one per text encoder;
 * - `string_to_param` → `*` (A1111's .pt, torch zip + pickle; read without executing anything, torchPickle.ts);
 * - one tensor under any name (diffusers' learned_embeds: `{"<token>": [n, width]}` or [width]).
 */
import { basename, extname } from 'node:path';
import { readSafetensors, SafetensorsError, tensorFloat32 } from './safetensors';
import { readTorchFile, type TorchValue, TorchFileError, isTorchTensor } from './torchPickle';

export interface Embedding {
  readonly name: string;
  readonly file: string;
  /** Vectors per text encoder: `text_encoder` (CLIP-L, or SD 2.x's OpenCLIP-H) and, SDXL, `text_encoder_2` (G). */
  readonly vectors: { readonly text_encoder?: Float32Array; readonly text_encoder_2?: Float32Array };
  readonly count: number;
  readonly widths: { readonly text_encoder?: number; readonly text_encoder_2?: number };
}

export class EmbeddingError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${basename(file)}: ${message}`);
    this.name = 'EmbeddingError';
  }
}

function shaped(file: string, what: string, data: Float32Array, shape: readonly number[]): { data: Float32Array; count: number; width: number } {
  if (shape.length === 1) return { data, count: 1, width: shape[0] };
  if (shape.length === 2) return { data, count: shape[0], width: shape[1] };
  throw new EmbeddingError(file, `${what} has shape [${shape.join(', ')}]; an embedding is [vectors, width]`);
}

function make(name: string, file: string, parts: { l?: ReturnType<typeof shaped>; g?: ReturnType<typeof shaped> }): Embedding {
  const { l, g } = parts;
  if (l !== undefined && g !== undefined && l.count !== g.count) {
    throw new EmbeddingError(file, `clip_l has ${l.count} vectors but clip_g ${g.count}`);
  }
  const count = (l ?? g)!.count;
  if (count === 0) throw new EmbeddingError(file, 'holds no vectors');
  return {
    name, file, count,
    vectors: { text_encoder: l?.data, text_encoder_2: g?.data },
    widths: { text_encoder: l?.width, text_encoder_2: g?.width },
  };
}

/** An embedding's name in prompts: its file name without the extension (A1111). */
export function embeddingName(file: string): string {
  return basename(file, extname(file));
}

/** Reads an embedding file (.safetensors; .pt/.bin through the no-execution pickle reader). */
export async function readEmbedding(file: string): Promise<Embedding> {
  const name = embeddingName(file);
  const ext = extname(file).toLowerCase();
  if (ext === '.safetensors') {
    let st;
    try {
      st = await readSafetensors(file);
    } catch (e) {
      if (e instanceof SafetensorsError) throw new EmbeddingError(file, e.message.slice(basename(file).length + 2));
      throw e;
    }
    const get = (key: string) => {
      const t = st.tensors.get(key);
      return t === undefined ? undefined : shaped(file, key, tensorFloat32(st, t), t.shape);
    };
    if (st.tensors.has('clip_l') || st.tensors.has('clip_g')) return make(name, file, { l: get('clip_l'), g: get('clip_g') });
    if (st.tensors.has('emb_params')) return make(name, file, { l: get('emb_params') });
    if (st.tensors.size === 1) return make(name, file, { l: get([...st.tensors.keys()][0]) });
    throw new EmbeddingError(file, `is not an embedding: expected emb_params, clip_l/clip_g or one tensor, found ${[...st.tensors.keys()].slice(0, 4).join(', ')}`);
  }
  if (ext === '.pt' || ext === '.bin') {
    let value: TorchValue;
    try {
      value = await readTorchFile(file);
    } catch (e) {
      if (e instanceof TorchFileError) {
        throw new EmbeddingError(file, `${e.message}; convert it to .safetensors (A1111 reads both; this engine runs no pickle code)`);
      }
      throw e;
    }
    const dict = value instanceof Map ? value : undefined;
    const stp = dict?.get('string_to_param');
    if (stp instanceof Map) {
      const t = [...stp.values()][0];
      if (isTorchTensor(t)) return make(name, file, { l: shaped(file, 'string_to_param', t.data, t.shape) });
    }
    const emb = dict?.get('emb_params');
    if (isTorchTensor(emb)) return make(name, file, { l: shaped(file, 'emb_params', emb.data, emb.shape) });
    const l = dict?.get('clip_l');
    const g = dict?.get('clip_g');
    if (isTorchTensor(l) || isTorchTensor(g)) {
      return make(name, file, {
        l: isTorchTensor(l) ? shaped(file, 'clip_l', l.data, l.shape) : undefined,
        g: isTorchTensor(g) ? shaped(file, 'clip_g', g.data, g.shape) : undefined,
      });
    }
    if (dict !== undefined && dict.size === 1) {
      const only = [...dict.values()][0];
      if (isTorchTensor(only)) return make(name, file, { l: shaped(file, 'the tensor', only.data, only.shape) });
    }
    throw new EmbeddingError(file, 'is not an embedding: no string_to_param, emb_params or clip_l/clip_g in it');
  }
  throw new EmbeddingError(file, `${ext || 'files without an extension'} are not embeddings (.safetensors, .pt, .bin)`);
}
