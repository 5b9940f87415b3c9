/**
 * Which files of a repo make a diffusers ONNX pipeline: model_index.json and the component folders the engine
 * reads (text_encoder/, unet/, vae_decoder/, optional vae_encoder/, tokenizer/, scheduler/, and
 * text_encoder_2/ + tokenizer_2/ for SDXL), at the repo's root or in a subfolder such as onnx/. Everything else
 * (PyTorch weights, safety checker, images, README) stays on the Hub.
 */
import { HubError, formatBytes } from './hubError';
import type { RepoFile } from './hubClient';

/** Component folders the engine reads, in the order they are shown. */
export const PIPELINE_FOLDERS = [
  'text_encoder', 'text_encoder_2', 'unet', 'vae_decoder', 'vae_encoder', 'tokenizer', 'tokenizer_2', 'scheduler',
] as const;

const REQUIRED = ['model_index.json', 'text_encoder/model.onnx', 'unet/model.onnx', 'vae_decoder/model.onnx', 'scheduler/scheduler_config.json'];

/**
 * Weights of other frameworks and documentation: never part of an ONNX pipeline (Stability's SDXL repos hold
 * PyTorch, ONNX and OpenVINO exports side by side in the same component folders).
 */
const SKIPPED_FILE = /(\.safetensors|\.ckpt|\.pt|\.pth|\.msgpack|\.h5|\.ot|\.png|\.jpe?g|\.gif|\.webp|\.md)$|(^|\/)(pytorch_model|diffusion_pytorch_model|flax_model|tf_model|openvino_model)[^/]*$|(^|\/)\.gitattributes$/i;

export interface PipelineSelection {
  /** The folder inside the repo that holds model_index.json: "" (root) or e.g. "onnx/". */
  readonly prefix: string;
  /** The files to download (repo paths). */
  readonly files: RepoFile[];
  readonly totalBytes: number;
}

/** The pipeline roots in a file list: every folder with model_index.json and unet/model.onnx beside it. */
function findRoots(paths: ReadonlySet<string>): string[] {
  const roots: string[] = [];
  for (const p of paths) {
    if (!p.endsWith('model_index.json')) continue;
    const prefix = p.slice(0, -'model_index.json'.length);
    if (prefix !== '' && !prefix.endsWith('/')) continue;
    if (paths.has(`${prefix}unet/model.onnx`)) roots.push(prefix);
  }
  return roots.sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
}

/** Whether `rel` (a path under the pipeline root) belongs to the pipeline. */
export function isPipelineFile(rel: string): boolean {
  if (rel === 'model_index.json' || rel === 'preview.json') return true;
  const slash = rel.indexOf('/');
  if (slash < 0) return false;
  const folder = rel.slice(0, slash);
  const name = rel.slice(slash + 1);
  if (!(PIPELINE_FOLDERS as readonly string[]).includes(folder) || name.includes('/')) return false;
  if (SKIPPED_FILE.test(name)) return false;
  // model.onnx, its external data and configs; other graphs (model_layernorm.onnx, …) are variants we do not run
  return !name.endsWith('.onnx') || name === 'model.onnx';
}

/**
 * The files of the diffusers ONNX pipeline in `files` (a repo's listing). A pipeline at the root wins over one
 * in a subfolder; `prefix` forces a folder. Throws a HubError saying what the repo holds instead.
 */
export function selectPipelineFiles(repoId: string, files: readonly RepoFile[], prefix?: string): PipelineSelection {
  const paths = new Set(files.map((f) => f.path));
  const roots = prefix !== undefined ? [prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`] : findRoots(paths);
  const root = roots[0];
  if (root === undefined || !paths.has(`${root}model_index.json`)) {
    throw new HubError('not-a-pipeline', `${repoId} holds no diffusers ONNX pipeline: ${describeRepo(files)}`);
  }
  const missing = REQUIRED.filter((r) => !paths.has(root + r));
  if (missing.length > 0) {
    throw new HubError('not-a-pipeline',
      `${repoId}${root ? ` (folder ${root})` : ''} is not a complete diffusers ONNX pipeline: missing ${missing.join(', ')}; ` +
      'expected model_index.json, text_encoder/, unet/, vae_decoder/, tokenizer/ and scheduler/');
  }
  const chosen = files.filter((f) => f.path.startsWith(root) && isPipelineFile(f.path.slice(root.length)));
  const tok = chosen.filter((f) => f.path.startsWith(`${root}tokenizer/`)).map((f) => f.path.slice(root.length + 'tokenizer/'.length));
  if (!tok.includes('vocab.json') || !tok.includes('merges.txt')) {
    throw new HubError('not-a-pipeline', `${repoId}: ${root}tokenizer/ should hold vocab.json and merges.txt (a CLIP tokenizer), found ${tok.join(', ') || 'nothing'}`);
  }
  return { prefix: root, files: chosen, totalBytes: chosen.reduce((s, f) => s + f.size, 0) };
}

/** A short account of what a repo without a pipeline holds, for the error message. */
function describeRepo(files: readonly RepoFile[]): string {
  const onnx = files.filter((f) => f.path.endsWith('.onnx')).map((f) => f.path);
  const torch = files.some((f) => /\.(safetensors|bin|ckpt)$/.test(f.path));
  const total = formatBytes(files.reduce((s, f) => s + f.size, 0));
  if (onnx.length > 0) {
    return `it has ONNX files (${onnx.slice(0, 5).join(', ')}${onnx.length > 5 ? ', …' : ''}) but no model_index.json with ` +
      'unet/model.onnx beside it: expected the layout of diffusers / Optimum ONNX exports';
  }
  if (torch) return `it holds PyTorch weights only (${total}): an ONNX export (e.g. with Optimum) is needed`;
  return `it has ${files.length} file(s) and none of them is model_index.json`;
}
