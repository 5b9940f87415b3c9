/**
 * What model.ts checks of the sessions' declared inputs and outputs: the UNet's inputs per family (SD, LCM's
 * timestep_cond, SDXL's text_embeds / time_ids), and a VAE decoder's output for NaN / ∞.
 */
import { ModelError } from '../model';
import { fail, listNames } from './modelFeeds';
import type { OnnxSession, ValueDescription } from './session';

/** Required inputs per component (names as diffusers' converter and Optimum export them). */
const UNET_INPUTS = ['sample', 'timestep', 'encoder_hidden_states'] as const;
/** Optional UNet input of LCM models: the guidance-scale embedding (batch × time_cond_proj_dim). */
export const TIMESTEP_COND = 'timestep_cond';
/** SDXL UNets' added conditions: text_encoder_2's pooled embeds (batch × P) and the size/crop ids (batch × 6). */
const XL_UNET_INPUTS = ['text_embeds', 'time_ids'] as const;
/** diffusers' SDXL add_time_ids: original size (h, w), crop top-left (top, left), target size (h, w). */
const XL_TIME_IDS = 6;

/**
 * A decoder that overflowed gives NaN or ±∞, which would become a black or garbage PNG without a word: SDXL's VAE
 * in float16 is the known case (diffusers upcasts it to float32, `force_upcast`; an ONNX graph cannot be upcast).
 */
export function checkFinite(vae: OnnxSession, images: Float32Array, fp16: boolean): void {
  // Three native scans (includes() finds NaN too) instead of a JS loop: this runs once a generation, before V8
  // would have optimized a loop over every value.
  if (!images.includes(NaN) && !images.includes(Infinity) && !images.includes(-Infinity)) return;
  let bad = 0;
  for (let i = 0; i < images.length; i++) if (!Number.isFinite(images[i])) bad++;
  throw new ModelError('runtime', vae.file, `${vae.file} produced ${bad} NaN or infinite values of ${images.length}`
    + (fp16 ? ': this float16 VAE decoder overflows (SDXL\'s VAE needs float32, or the fp16-fix VAE); use an fp32 vae_decoder' : ''));
}

/** Checks the UNet's inputs for an SD (xl false) or SDXL folder; a ModelError naming the file says what is wrong. */
export function checkUnet(unet: OnnxSession, xl: boolean): void {
  const required: readonly string[] = xl ? [...UNET_INPUTS, ...XL_UNET_INPUTS] : UNET_INPUTS;
  const missing = required.filter((n) => unet.input(n) === undefined);
  if (missing.length > 0) {
    fail(unet, `expected ${xl ? 'SDXL ' : ''}UNet inputs ${required.join(', ')}; missing ${missing.join(', ')}; found ${listNames(unet.inputs)}`);
  }
  const known: readonly string[] = [...required, TIMESTEP_COND];
  const extra = unet.inputs.filter((i) => !known.includes(i.name)).map((i) => i.name);
  if (extra.length > 0) {
    const kind = extra.includes('text_embeds') || extra.includes('time_ids')
      ? ' (an SDXL UNet in a folder without text_encoder_2/ and tokenizer_2/)' : '';
    throw new ModelError('unsupported', unet.file,
      `${unet.file} needs inputs this engine does not provide: ${extra.join(', ')}${kind}; not supported`);
  }
  if (xl) {
    const ids = unet.input('time_ids') as ValueDescription;
    const n = ids.dims[1];
    if (ids.dims.length !== 2 || (typeof n === 'number' && n !== XL_TIME_IDS)) {
      fail(unet, `input "time_ids" should be batch × ${XL_TIME_IDS} (SDXL base: size, crop, target size), the model declares `
        + `[${ids.dims.join(', ')}]${n === 5 ? ' — 5 is the refiner\'s aesthetic-score layout, which is not supported' : ''}`);
    }
    const embeds = unet.input('text_embeds') as ValueDescription;
    if (embeds.dims.length !== 2) fail(unet, `input "text_embeds" should be batch × projection size, the model declares [${embeds.dims.join(', ')}]`);
  }
  const cond = unet.input(TIMESTEP_COND);
  if (cond !== undefined && (cond.dims.length !== 2 || typeof cond.dims[1] !== 'number')) {
    fail(unet, `input "${TIMESTEP_COND}" should be batch × embedding size with a fixed size, the model declares [${cond.dims.join(', ')}]`);
  }
}
