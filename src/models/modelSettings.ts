/**
 * The model settings of issue 5 (package.json `contributes.configuration`): where downloads go, whether the Hugging
 * Face cache is listed, and when idle sessions are released. Read through a getter so node tests need no `vscode`;
 * wrong types fall back to the default.
 */

export type DownloadLocation = 'extensionStorage' | 'huggingFaceCache';

export interface ModelSettings {
  /** 'extensionStorage': the extension's global storage; 'huggingFaceCache': the HF cache layout (Python tools reuse it). */
  readonly downloadLocation: DownloadLocation;
  /** List pipelines found in the Hugging Face cache (HF_HUB_CACHE, HF_HOME/hub or ~/.cache/huggingface/hub). */
  readonly listHuggingFaceCache: boolean;
  /** Release the engine's sessions after this many idle minutes; 0 = keep them. */
  readonly releaseAfterIdleMinutes: number;
}

export const DEFAULT_MODEL_SETTINGS: ModelSettings = {
  downloadLocation: 'extensionStorage',
  listHuggingFaceCache: true,
  releaseAfterIdleMinutes: 10,
};

export function readModelSettings(get: (key: keyof ModelSettings) => unknown): ModelSettings {
  const d = DEFAULT_MODEL_SETTINGS;
  const location = get('downloadLocation');
  const list = get('listHuggingFaceCache');
  const idle = get('releaseAfterIdleMinutes');
  return {
    downloadLocation: location === 'extensionStorage' || location === 'huggingFaceCache' ? location : d.downloadLocation,
    listHuggingFaceCache: typeof list === 'boolean' ? list : d.listHuggingFaceCache,
    releaseAfterIdleMinutes: typeof idle === 'number' && Number.isFinite(idle) && idle >= 0 && idle <= 24 * 60 ? idle : d.releaseAfterIdleMinutes,
  };
}
