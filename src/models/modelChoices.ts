/**
 * The models the panel offers: the embedded default (models/<name> in the extension) and the folder the
 * `inlineDiffusion.model` setting names (modelSources.ts adds added, downloaded and Hugging Face cache models), and
 * their descriptions for the panel with the family's recommended settings.
 * Reads model folders without loading ONNX Runtime. No `vscode` import.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { ModelChoice, RecommendedParams } from '../protocol/webviewMessages';
import { detectModelFamily, recommendedSettings, type ModelFamily } from '../engine/model';
import { readModelFolder } from '../engine/model';
import type { ModelInfo } from '../engine/model';

export type ModelSource = 'setting' | 'embedded' | 'added' | 'downloaded' | 'hf-cache';

export interface ModelEntry {
  /** The id the panel sends back: the folder's absolute path. */
  readonly id: string;
  readonly dir: string;
  readonly label: string;
  readonly embedded: boolean;
  readonly source?: ModelSource;
  /** Read from the folder's configs; null when they cannot be read, absent when not looked at yet. */
  readonly family?: ModelFamily | null;
}

/** The setting's folder as an absolute path: `~` is the home folder, relative paths start at the workspace folder. */
export function resolveModelSetting(value: string, workspaceFolder: string | undefined, home = os.homedir()): string | undefined {
  const v = value.trim();
  if (!v) return undefined;
  if (v === '~' || v.startsWith('~/') || v.startsWith('~\\')) return path.join(home, v.slice(1));
  if (path.isAbsolute(v)) return path.normalize(v);
  return workspaceFolder === undefined ? undefined : path.join(workspaceFolder, v);
}

/** The configured model first (it is the default when set), then the embedded one. */
export function listModels(setting: string, workspaceFolder: string | undefined, embeddedDir: string): ModelEntry[] {
  const embedded: ModelEntry = { id: embeddedDir, dir: embeddedDir, label: `${path.basename(embeddedDir)} (embedded)`, embedded: true, source: 'embedded' };
  const configured = resolveModelSetting(setting, workspaceFolder);
  if (configured === undefined || path.resolve(configured) === path.resolve(embeddedDir)) return [embedded];
  return [{ id: configured, dir: configured, label: `${path.basename(configured)} (setting)`, embedded: false, source: 'setting' }, embedded];
}

/** Reads model folders once per path (a model folder does not change under a running session often; `forget` clears). */
export class ModelInfoCache {
  private readonly cache = new Map<string, Promise<ModelInfo>>();

  read(dir: string): Promise<ModelInfo> {
    let entry = this.cache.get(dir);
    if (!entry) {
      entry = readModelFolder(dir);
      this.cache.set(dir, entry);
      entry.catch(() => this.cache.delete(dir)); // a folder being fixed is read again next time
    }
    return entry;
  }

  forget(): void {
    this.cache.clear();
  }
}

const FAMILY_NAMES: Readonly<Record<ModelFamily, string>> = {
  sd1: 'SD 1.x', sd2: 'SD 2.x', 'sd-turbo': 'SD-Turbo', lcm: 'LCM', sdxl: 'SDXL',
};

/** "SD 1.x", "SD-Turbo", … for labels. */
export function familyName(family: ModelFamily | null): string {
  return family === null ? 'unknown family' : FAMILY_NAMES[family];
}

/** The family's defaults as the panel offers them (the catalog's own settings win for downloaded catalog models). */
export function recommendedParams(dir: string): { family: ModelFamily; recommended: RecommendedParams } {
  const info = detectModelFamily(dir);
  const r = recommendedSettings(info);
  return {
    family: info.family,
    recommended: { sampler: r.sampler, steps: r.steps, cfgScale: r.cfgScale, width: r.width, height: r.height, note: r.note },
  };
}

/** The panel's model choices: native size, family and its defaults when the folder reads, else the reason it does not. */
export async function describeModels(entries: readonly ModelEntry[], cache: ModelInfoCache): Promise<ModelChoice[]> {
  return Promise.all(entries.map(async (e): Promise<ModelChoice> => {
    try {
      const info = await cache.read(e.dir);
      let family: ModelFamily | null = null;
      let recommended: RecommendedParams | null = null;
      try {
        if (!e.embedded) ({ family, recommended } = recommendedParams(info.dir)); // the embedded model's defaults are the settings'
      } catch {
        // unreadable configs: the model still runs with the panel's own defaults
      }
      const label = family === null || e.embedded ? e.label : `${e.label} · ${familyName(family)}`;
      return { id: e.id, label, nativeSize: info.sampleSize * info.vaeScaleFactor, problem: null, family, recommended };
    } catch (err) {
      return { id: e.id, label: e.label, nativeSize: null, problem: (err as Error).message, family: e.family ?? null, recommended: null };
    }
  }));
}
