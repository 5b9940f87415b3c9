import { parseArgs } from 'node:util';
import { parseSeedsAndSize, SEEDS_AND_SIZE_FLAGS, SEEDS_AND_SIZE_USAGE, type SeedsAndSizeArgs } from './seedsAndSizeArgs';

/** What `inline-diffusion generate` was asked, before model-derived defaults are applied. */
export interface GenerateArgs {
  readonly prompt: string;
  /** null when --negative-prompt is not given; "" when it is given empty (SDXL: the encoded empty prompt). */
  readonly negativePrompt: string | null;
  readonly model: string | null;
  readonly sampler: string | null;
  readonly steps: number | null;
  readonly cfgScale: number | null;
  readonly seed: number | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly batch: number;
  readonly initImage: string | null;
  readonly strength: number | null;
  /** A1111's img2img "Resize mode" (null: just resize). */
  readonly resizeMode: 'just' | 'crop' | 'fill' | null;
  /** Inpainting: the mask file (white = repaint) over --init-image. */
  readonly mask: string | null;
  readonly maskBlur: number | null;
  readonly inpaintArea: 'whole' | 'masked' | null;
  readonly inpaintPadding: number | null;
  readonly maskMode: 'masked' | 'unmasked' | null;
  readonly maskedContent: 'original' | 'fill' | 'latent-noise' | 'latent-nothing' | null;
  readonly out: string | null;
  readonly previews: string | null;
  readonly threads: number | null;
  readonly rng: 'cpu' | 'nv';
  /** A1111's "Clip skip" (null: 1). */
  readonly clipSkip: number | null;
  readonly emphasis: 'original' | 'no-norm' | 'none';
  /** A1111's "Use old prompt editing timelines". */
  readonly oldPromptEditingTimelines: boolean;
  /** How the VAE decodes (GenerateRequest.vaeDecode). */
  readonly vaeDecode: 'auto' | 'full' | 'tiled' | 'fast';
  readonly provider: 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml';
  readonly json: boolean;
  readonly quiet: boolean;
  /** An explicit --out (or its batch names) may replace existing files. */
  readonly overwrite: boolean;
  /** Where `<lora:name:weight>` names are found (null: none). */
  readonly loraDir: string | null;
  /** Textual-inversion embeddings the prompts may name (null: none). */
  readonly embeddingsDir: string | null;
  /** Variation seed, Resize seed from, hires. fix (src/cli/seedsAndSizeArgs.ts). */
  readonly seedsAndSize: SeedsAndSizeArgs;
}

/** What `inline-diffusion download REPO` was asked. */
export interface DownloadArgs {
  readonly repo: string;
  readonly revision: string;
  readonly quiet: boolean;
}

export type Command =
  /** `usage`: asked for (stdout, exit 0) or shown because no command was given (stderr, exit 2). */
  | { readonly kind: 'help'; readonly text: string; readonly asked: boolean }
  | { readonly kind: 'version' }
  | { readonly kind: 'generate'; readonly args: GenerateArgs }
  | { readonly kind: 'download'; readonly args: DownloadArgs };

/** A usage error: the message says which flag, what was expected and what arrived. */
export class UsageError extends Error {}

export const USAGE = `Usage: inline-diffusion generate --prompt TEXT [options]
       inline-diffusion download OWNER/NAME [--revision REV]
       inline-diffusion --version

Generates images with Stable Diffusion (ONNX) on this machine and writes PNGs carrying their parameters.
\`download\` fetches a diffusers ONNX pipeline from the Hugging Face Hub into its cache (HF_HUB_CACHE, HF_HOME/hub
or ~/.cache/huggingface/hub; HF_TOKEN for gated repos), verified and resumable, and prints its folder for --model.

Options:
  --prompt TEXT            what to draw (required; may be "")
  --negative-prompt TEXT   what to avoid (default: none; SDXL: "" is the encoded empty prompt, none zeroes it)
  --model DIR              model folder in diffusers/Optimum ONNX layout (default: the embedded model);
                           a Hub repo id is fetched first with \`inline-diffusion download OWNER/NAME\`
  --sampler NAME           euler, euler_a, heun, lms, dpmpp_2m, dpmpp_2m_karras, ddim, plms, ddpm, lcm, unipc,
                           an A1111 name ("Euler a") or a diffusers class name (default: the model's own scheduler)
  --steps N                denoising steps, 1…1000 (default 20)
  --cfg X                  classifier-free guidance scale, 0…50 (default 7.5; ≤ 1 disables guidance)
  --seed N                 integer 0…4294967295 (default: random, printed)
  --width N, --height N    multiples of 8 in 64…2048 (default: the model's native size)
  --batch N                number of images, seeds seed…seed+N−1 (default 1)
  --init-image FILE        img2img: start from this PNG or JPEG
  --strength X             img2img strength 0…1 (default 0.75)
  --resize-mode MODE       img2img, when the init image's size differs from --width×--height, as A1111's
                           "Resize mode": just (default: stretched), crop (cover, centre kept), fill (fit,
                           the edges stretched into the bands)
  --mask FILE              inpaint: repaint the white part of this PNG/JPEG over --init-image (another size is
                           resized to the image); an inpainting model (9-channel UNet) needs one
  --mask-blur N            A1111's "Mask blur" in pixels, 0…64 (default 4)
  --mask-mode MODE         masked (default: repaint the white part) or unmasked (A1111's "Inpaint not masked")
  --masked-content MODE    what the masked part starts from, as A1111: original (default), fill, latent-noise,
                           latent-nothing
  --inpaint-area AREA      whole (default: the whole picture) or masked (A1111's "Only masked": the masked region
                           inpainted at --width×--height and pasted back; the result has the input's size)
  --inpaint-padding N      "Only masked" padding in pixels, 0…256 (default 32)
  --out FILE               output PNG (default <prompt-slug>-<seed>.png here, never overwriting; with --batch,
                           <stem>-<seed>.png each); an existing file is refused unless --overwrite
  --overwrite              let --out replace existing files
  --previews DIR           write each step's latent preview as a PNG into DIR, upscaled (nearest) to the image's size
                           (refused if one is already there)
  --threads N              CPU threads for ONNX Runtime
  --rng cpu|nv             initial-noise source: torch CPU (default) or A1111 "NV" (Philox)
  --clip-skip N            A1111's "Clip skip": condition on the text encoder's layer N−1 before the last,
                           1…12 (default 1; SD 1.x models, as in A1111)
  --emphasis MODE          how (word:1.2) weights apply, as A1111's "Emphasis": original (default: weights,
                           then the mean restored), no-norm, none (brackets are plain text)
  --old-prompt-editing-timelines
                           A1111's "Use old prompt editing timelines" (before 1.6): [a:b:N] switches at a
                           fraction of the steps for N < 1, at step N otherwise
  --vae-decode MODE        auto (default: the full VAE, in diffusers' tiles when the image would need more than
                           a quarter of this machine's memory untiled), full, tiled (diffusers' tiled_decode),
                           fast (the model folder's TAESD taesd/vae_decoder/model.onnx: a quick draft)
  --lora-dir DIR           folder of LoRA .safetensors files for <lora:name:weight> in the prompt (A1111's
                           syntax; weight default 1; an LCM-LoRA switches to the LCM sampler, 4 steps, CFG 1
                           unless --sampler/--steps/--cfg say otherwise)
  --embeddings-dir DIR     folder of textual-inversion embeddings (.safetensors, A1111 .pt) used by file name
                           in the prompt and negative prompt
${SEEDS_AND_SIZE_USAGE}
  --provider NAME          execution provider: auto (default), cpu, cuda, dml, coreml
  --json                   print one JSON object with files, seeds, settings and timings on stdout
  --quiet                  no progress bar
  -h, --help               this text
  --version                the version`;

const flagSpec = {
  prompt: { type: 'string' },
  'negative-prompt': { type: 'string' },
  model: { type: 'string' },
  sampler: { type: 'string' },
  steps: { type: 'string' },
  cfg: { type: 'string' },
  seed: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  batch: { type: 'string' },
  'init-image': { type: 'string' },
  strength: { type: 'string' },
  'resize-mode': { type: 'string' },
  mask: { type: 'string' },
  'mask-blur': { type: 'string' },
  'mask-mode': { type: 'string' },
  'masked-content': { type: 'string' },
  'inpaint-area': { type: 'string' },
  'inpaint-padding': { type: 'string' },
  out: { type: 'string' },
  previews: { type: 'string' },
  threads: { type: 'string' },
  rng: { type: 'string' },
  'clip-skip': { type: 'string' },
  emphasis: { type: 'string' },
  'old-prompt-editing-timelines': { type: 'boolean' },
  'vae-decode': { type: 'string' },
  provider: { type: 'string' },
  'lora-dir': { type: 'string' },
  'embeddings-dir': { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  overwrite: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...SEEDS_AND_SIZE_FLAGS,
} as const;

const downloadSpec = {
  revision: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parseFlags<T extends Record<string, { type: 'string' | 'boolean' }>>(args: string[], options: T, allowPositionals: boolean): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^TypeError.*?: /, '').replace(/\. To specify a positional argument.*$/, ''));
  }
}

export function parseCommandLine(argv: readonly string[]): Command {
  if (argv.length === 0) return { kind: 'help', text: USAGE, asked: false };
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') return { kind: 'help', text: USAGE, asked: true };
  if (argv[0] === '--version' || argv[0] === '-V' || argv[0] === 'version') return { kind: 'version' };
  const [command, ...rest] = argv;
  if (command === 'download') return parseDownload(rest);
  if (command !== 'generate') throw new UsageError(`unknown command '${command}': expected 'generate' or 'download'`);
  const { values } = parseFlags(joinNegativeNumbers(rest), flagSpec, false);
  if (values.help) return { kind: 'help', text: USAGE, asked: true };
  const str = (k: keyof typeof flagSpec): string | null => (typeof values[k] === 'string' ? (values[k] as string) : null);
  const prompt = str('prompt');
  if (prompt === null) throw new UsageError('--prompt is required (use --prompt "" for an unconditional image)');
  return {
    kind: 'generate',
    args: {
      prompt,
      negativePrompt: str('negative-prompt'),
      model: str('model'),
      sampler: str('sampler'),
      steps: parseInteger('--steps', str('steps')),
      cfgScale: parseFloatFlag('--cfg', str('cfg')),
      seed: parseInteger('--seed', str('seed')),
      width: parseInteger('--width', str('width')),
      height: parseInteger('--height', str('height')),
      batch: parseInteger('--batch', str('batch')) ?? 1,
      initImage: str('init-image'),
      strength: parseFloatFlag('--strength', str('strength')),
      resizeMode: parseChoice('--resize-mode', str('resize-mode'), ['just', 'crop', 'fill'] as const),
      mask: str('mask'),
      maskBlur: parseInteger('--mask-blur', str('mask-blur')),
      inpaintArea: parseChoice('--inpaint-area', str('inpaint-area'), ['whole', 'masked'] as const),
      inpaintPadding: parseInteger('--inpaint-padding', str('inpaint-padding')),
      maskMode: parseChoice('--mask-mode', str('mask-mode'), ['masked', 'unmasked'] as const),
      maskedContent: parseChoice('--masked-content', str('masked-content'), ['original', 'fill', 'latent-noise', 'latent-nothing'] as const),
      out: str('out'),
      previews: str('previews'),
      threads: parseInteger('--threads', str('threads')),
      rng: parseChoice('--rng', str('rng'), ['cpu', 'nv'] as const) ?? 'cpu',
      clipSkip: parseInteger('--clip-skip', str('clip-skip')),
      emphasis: parseChoice('--emphasis', str('emphasis'), ['original', 'no-norm', 'none'] as const) ?? 'original',
      oldPromptEditingTimelines: values['old-prompt-editing-timelines'] === true,
      vaeDecode: parseChoice('--vae-decode', str('vae-decode'), ['auto', 'full', 'tiled', 'fast'] as const) ?? 'auto',
      provider: parseChoice('--provider', str('provider'), ['auto', 'cpu', 'cuda', 'dml', 'coreml'] as const) ?? 'auto',
      json: values.json === true,
      quiet: values.quiet === true,
      overwrite: values.overwrite === true,
      loraDir: str('lora-dir'),
      embeddingsDir: str('embeddings-dir'),
      seedsAndSize: parseSeedsAndSize(str, (message) => new UsageError(message)),
    },
  };
}

function parseDownload(rest: string[]): Command {
  const { values, positionals } = parseFlags(rest, downloadSpec, true);
  if (values.help) return { kind: 'help', text: USAGE, asked: true };
  if (positionals.length !== 1) {
    throw new UsageError(`download: expected one Hugging Face repo id (owner/name), got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`);
  }
  return {
    kind: 'download',
    args: { repo: positionals[0], revision: typeof values.revision === 'string' ? values.revision : 'main', quiet: values.quiet === true },
  };
}

/** `--cfg -1` → `--cfg=-1`: parseArgs reads a value starting with '-' as a flag; a number is meant as the value. */
function joinNegativeNumbers(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const flag = args[i].startsWith('--') ? args[i].slice(2) : '';
    const spec = (flagSpec as Record<string, { type: string }>)[flag];
    const next = args[i + 1];
    if (spec?.type === 'string' && next !== undefined && /^-(\d|\.\d|inf|nan)/i.test(next)) {
      out.push(`${args[i]}=${next}`);
      i++;
    } else {
      out.push(args[i]);
    }
  }
  return out;
}

function parseInteger(flag: string, raw: string | null): number | null {
  if (raw === null) return null;
  if (!/^[+-]?\d+$/.test(raw.trim())) throw new UsageError(`${flag}: expected an integer, got '${raw}'`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new UsageError(`${flag}: '${raw}' is out of range`);
  return n;
}

function parseFloatFlag(flag: string, raw: string | null): number | null {
  if (raw === null) return null;
  const n = raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isFinite(n)) throw new UsageError(`${flag}: expected a number, got '${raw}'`);
  return n;
}

function parseChoice<T extends string>(flag: string, raw: string | null, allowed: readonly T[]): T | null {
  if (raw === null) return null;
  const found = allowed.find((a) => a === raw.toLowerCase());
  if (!found) throw new UsageError(`${flag}: expected one of ${allowed.join(', ')}, got '${raw}'`);
  return found;
}
