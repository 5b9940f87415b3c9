/**
 * The models the panel offers: the embedded default (models/<name> in the extension) and the folder the
 * `inlineDiffusion.model` setting names. Downloads come later (issue 4 leaves them to a later issue).
 * Reads model folders without loading ONNX Runtime. No `vscode` import.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { ModelChoice } from '../protocol/webviewMessages';
import { readModelFolder } from '../engine/modelFolder';
import type { ModelInfo } from '../engine/modelTypes';

export interface ModelEntry {
  /** The id the panel sends back: the folder's absolute path. */
  readonly id: string;
  readonly dir: string;
  readonly label: string;
  readonly embedded: boolean;
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
  const embedded: ModelEntry = { id: embeddedDir, dir: embeddedDir, label: `${path.basename(embeddedDir)} (embedded)`, embedded: true };
  const configured = resolveModelSetting(setting, workspaceFolder);
  if (configured === undefined || path.resolve(configured) === path.resolve(embeddedDir)) return [embedded];
  return [{ id: configured, dir: configured, label: `${path.basename(configured)} (setting)`, embedded: false }, embedded];
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

/** The panel's model choices: native size when the folder reads, else the reason it does not. */
export async function describeModels(entries: readonly ModelEntry[], cache: ModelInfoCache): Promise<ModelChoice[]> {
  return Promise.all(entries.map(async (e): Promise<ModelChoice> => {
    try {
      const info = await cache.read(e.dir);
      return { id: e.id, label: e.label, nativeSize: info.sampleSize * info.vaeScaleFactor, problem: null };
    } catch (err) {
      return { id: e.id, label: e.label, nativeSize: null, problem: (err as Error).message };
    }
  }));
}
