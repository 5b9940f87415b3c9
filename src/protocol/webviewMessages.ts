/**
 * Messages between the extension host (src/panel/) and the Generate Image webview (webview/).
 * Plain data only. Both sides import this file with `import type`; the guards live beside their handlers:
 * src/panel/webviewMessageGuards.ts (FromWebview, in the host) and webview/messages.ts (ToWebview, in the webview).
 */
import type { MaskRuns } from '../common/maskRuns';
import type { HiresUpscaler } from '../common/hires';

/** The panel's generation parameters, as the form holds them. */
export interface PanelParams {
  readonly prompt: string;
  readonly negativePrompt: string;
  /** A sampler id from PanelSetup.samplers ("default" = the model's own scheduler). */
  readonly sampler: string;
  readonly steps: number;
  readonly cfgScale: number;
  /** Used when randomSeed is false. */
  readonly seed: number;
  readonly randomSeed: boolean;
  readonly width: number;
  readonly height: number;
  /** Images made one after the other, image i with seed + i. */
  readonly batchCount: number;
  /** A model id from PanelSetup.models. */
  readonly model: string;
  /** A1111's "Clip skip" (1…12); absent = the inlineDiffusion.clipSkip setting. */
  readonly clipSkip?: number;
  /** A1111's "Use old prompt editing timelines" (GenerateRequest.oldPromptEditingTimelines); absent = false. */
  readonly oldPromptEditingTimelines?: boolean;
  /** Image to image: A1111's "Denoising strength" (0…1); absent = 0.75. Used when an input image is given. */
  readonly strength?: number;
  /** Image to image: A1111's "Resize mode" when the input's size differs from width×height; absent = 'just'. */
  readonly resizeMode?: ResizeModeChoice;
  /** Inpainting over the input image: the painted mask and A1111's settings for it; absent = none. */
  readonly inpaint?: PanelInpaint;
  /** Reuse Parameters of an inpainted picture: A1111's mask settings for the mask editor (the mask is not in a PNG). */
  readonly maskSettings?: PanelMaskSettings;
  /** A1111's "Variation seed" (used when variationStrength > 0); image i of a batch count uses variationSeed + i. */
  readonly variationSeed?: number;
  /** Draw a new variation seed at each Generate, as randomSeed does for the seed; absent = false. */
  readonly randomVariationSeed?: boolean;
  /** A1111's "Variation strength", 0…1; absent or 0 = no variation. */
  readonly variationStrength?: number;
  /** A1111's hires. fix; absent or null = off. */
  readonly hires?: HiresParams | null;
}

/** The mask editor's value (webview/maskEditor.ts): the mask as run lengths at the input image's size. */
export interface PanelInpaint extends PanelMaskSettings {
  readonly mask: MaskRuns;
}

/** A1111's settings for a mask ("Mask blur", "Mask mode", "Masked content", "Inpaint area", "Masked area padding"). */
export interface PanelMaskSettings {
  readonly maskBlur: number;
  readonly maskMode: 'masked' | 'unmasked';
  readonly maskedContent: 'fill' | 'original' | 'latent-noise' | 'latent-nothing';
  readonly inpaintArea: 'whole' | 'masked';
  readonly inpaintPadding: number;
}

/** A1111's img2img resize modes: "Just resize", "Crop and resize", "Resize and fill". */
export type ResizeModeChoice = 'just' | 'crop' | 'fill';

/**
 * The input image of image to image, as the host holds it (its pixels stay in the host; the webview shows the
 * preview and sends the id back with Generate).
 */
export interface InputImageInfo {
  readonly id: string;
  /** The file name (or "pasted image", or the result's name). */
  readonly name: string;
  /** Its size as decoded (upright). */
  readonly width: number;
  readonly height: number;
  /** A data: URL of a PNG at most INPUT_PREVIEW_SIZE a side. */
  readonly preview: string;
  /** Where it came from: a file (picker, drop, "Vary Image…", the gallery), a paste, or a result of the panel. */
  readonly source: 'file' | 'paste' | 'result';
  /** What was converted (transparency onto white, EXIF orientation, 16 bits, an animation's first frame). */
  readonly notes: readonly string[];
}

/** The panel's hires. fix settings (GenerateRequest.hires). */
export interface HiresParams {
  /** "Upscale by", above 1 and at most 4. */
  readonly scale: number;
  /** "Hires steps", 0 = the first pass's steps. */
  readonly steps: number;
  /** "Denoising strength", above 0 and at most 1. */
  readonly strength: number;
  readonly upscaler: HiresUpscaler;
}

export interface SamplerChoice {
  readonly id: string;
  readonly label: string;
}

/** A family's defaults the panel offers when its model is picked (src/engine/model/modelFamily.ts recommendedSettings). */
export interface RecommendedParams {
  /** A sampler id from PanelSetup.samplers. */
  readonly sampler: string;
  readonly steps: number;
  readonly cfgScale: number;
  readonly width: number;
  readonly height: number;
  /** One line for the panel, e.g. "SD-Turbo: 1–4 steps without CFG, trailing timesteps, 512×512". */
  readonly note: string;
}

export interface ModelChoice {
  readonly id: string;
  readonly label: string;
  /** Native image size, or null when the folder could not be read (then `problem` says why). */
  readonly nativeSize: number | null;
  readonly problem: string | null;
  /** "sd1", "sd2", "sd-turbo", "lcm" or "sdxl"; absent or null when unknown. */
  readonly family?: string | null;
  /** Defaults for this model's family; absent or null when the folder could not be read. */
  readonly recommended?: RecommendedParams | null;
  /** The words a grammar-only model knows (the embedded one), for the prompt's completions and hints; else absent or null. */
  readonly words?: readonly string[] | null;
}

export interface PanelLimits {
  readonly stepsMax: number;
  readonly cfgMax: number;
  readonly seedMax: number;
  readonly sizeMin: number;
  readonly sizeMax: number;
  readonly sizeMultiple: number;
  readonly batchCountMax: number;
  readonly promptMaxChars: number;
  readonly clipSkipMax: number;
}

/** What the webview needs to draw the form; sent on `ready` and whenever settings change. */
export interface PanelSetup {
  readonly samplers: readonly SamplerChoice[];
  readonly models: readonly ModelChoice[];
  readonly defaults: PanelParams;
  readonly limits: PanelLimits;
  readonly sizePresets: readonly number[];
  readonly autoSave: boolean;
  readonly previews: boolean;
  /** The LoRAs and embeddings of the settings' folders, by name (absent: no folder set). */
  readonly networks?: PanelNetworks;
}

/** The LoRAs and embeddings of the settings' folders, by name, as the panel's picker lists them. */
export interface PanelNetworks {
  readonly loras: readonly string[];
  readonly embeddings: readonly string[];
  /** LoRAs whose `<name>.json` gives A1111's "preferred weight" (the picker's weight for them; others 1). */
  readonly loraWeights?: Readonly<Record<string, number>>;
}

/** Who queued a job: the panel, "Illustrate Alt Text" (and Regenerate from a hover), or an "Illustrate Document" review. */
export type JobSource = 'panel' | 'altText' | 'document';

export interface JobSummary {
  readonly jobId: number;
  readonly source: JobSource;
  readonly prompt: string;
  readonly imageCount: number;
  /** The seed of its first image (drawn already when Random seed was ticked). */
  readonly seed: number;
}

/** A step preview: RGB bytes, 3 a pixel, row-major. */
export interface PreviewImage {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
}

export interface ImageResult {
  /** The host's id for the image (Save, Insert, Open refer to it). */
  readonly imageId: string;
  readonly jobId: number;
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  /** A data: URL of the PNG. */
  readonly src: string;
  /** The PNG's `parameters` text. */
  readonly infotext: string;
  /** The parameters that made it (seed fixed, randomSeed false): clicking it in the history restores them. */
  readonly params: PanelParams;
  /** Workspace-relative (or absolute) path once saved, else null. */
  readonly savedPath: string | null;
}

/** Host → webview. */
export type ToWebview =
  /** Form choices, defaults and limits. */
  | { readonly type: 'setup'; readonly setup: PanelSetup }
  /** The LoRA / embedding folders changed while the panel is open: their new lists (absent: no folder set). */
  | { readonly type: 'networks'; readonly networks?: PanelNetworks }
  /** Load parameters into the form (Reuse Parameters from Image); `note` says what could not be used. */
  | { readonly type: 'loadParams'; readonly params: PanelParams; readonly note: string | null }
  /** The jobs waiting and running, in order (the first may be running). */
  | { readonly type: 'queue'; readonly jobs: readonly JobSummary[]; readonly runningJobId: number | null }
  /** After each denoising step of a running job. */
  | { readonly type: 'progress'; readonly jobId: number; readonly imageIndex: number; readonly imageCount: number;
      readonly step: number; readonly totalSteps: number; readonly itPerSec: number | null; readonly etaMs: number | null;
      readonly previews: readonly PreviewImage[];
      /** With hires. fix: 1 (the first pass) or 2 (the hires pass). */
      readonly pass?: number }
  /** One finished image (a batch count of n sends n of these). */
  | { readonly type: 'image'; readonly image: ImageResult }
  /** A job ended: finished, cancelled or failed (`message` says why). */
  | { readonly type: 'jobEnded'; readonly jobId: number; readonly outcome: 'finished' | 'cancelled' | 'failed';
      readonly message: string | null }
  /** An image was saved. */
  | { readonly type: 'saved'; readonly imageId: string; readonly savedPath: string }
  /** A1111's token counters for the prompt fields ("23/75"), answering countTokens. */
  | { readonly type: 'tokenCounts'; readonly prompt: string; readonly negativePrompt: string }
  /** The input image for image to image (null: none; `note` says why it could not be used, or what was done). */
  | { readonly type: 'inputImage'; readonly image: InputImageInfo | null; readonly note: string | null }
  /** An inline message: a rejected request (field names the form field) or a note. */
  | { readonly type: 'notice'; readonly level: 'error' | 'info'; readonly message: string; readonly field: keyof PanelParams | null };

/** Webview → host. */
export type FromWebview =
  /** The webview has loaded (again) and wants the setup and queue. */
  | { readonly type: 'ready' }
  /** Generate with these parameters (queued when one runs); with `inputImageId`, image to image from that input image. */
  | { readonly type: 'generate'; readonly params: PanelParams; readonly inputImageId?: string }
  /** Cancel a job (null = the running one). */
  | { readonly type: 'cancel'; readonly jobId: number | null }
  /** Save an image that is not saved yet. */
  | { readonly type: 'save'; readonly imageId: string }
  /** Insert an image into the last active markdown editor (saving it first when needed). */
  | { readonly type: 'insert'; readonly imageId: string }
  /** Open the saved file in an editor. */
  | { readonly type: 'open'; readonly imageId: string }
  /** Forget an unsaved image: the host removes the copy it kept. */
  | { readonly type: 'discard'; readonly imageId: string }
  /** Show an image of the history strip again among the results (Save, Insert, Open), if the host still keeps it. */
  | { readonly type: 'show'; readonly imageId: string }
  /** Copy a seed to the clipboard. */
  | { readonly type: 'copySeed'; readonly seed: number }
  /** "Use as Input": a result or history image becomes the input image (answered by inputImage). */
  | { readonly type: 'useAsInput'; readonly imageId: string }
  /** Choose an input image with the file picker. */
  | { readonly type: 'pickInputImage' }
  /** A picture pasted or dropped as data (no path): the host checks its size and header before decoding it. */
  | { readonly type: 'inputImageData'; readonly name: string; readonly data: Uint8Array }
  /** A file dropped from VS Code's Explorer or the OS (a URI from text/uri-list): the host reads it. */
  | { readonly type: 'inputImageUri'; readonly uri: string }
  /** Make variations of a result: its seed with new variation seeds (the Variations settings). */
  | { readonly type: 'variations'; readonly imageId: string }
  /** Count the prompt fields' tokens with the model's tokenizer (the form changed); answered by tokenCounts. */
  | { readonly type: 'countTokens'; readonly prompt: string; readonly negativePrompt: string; readonly model: string;
      readonly steps: number };
