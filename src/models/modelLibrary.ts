/**
 * Where the extension's models live beside the setting and the embedded one: folders added with "Add Model…"
 * (kept in globalState), downloads in the extension's global storage (<globalStorage>/models), and the Hugging Face
 * cache. Fires onDidChange when a model is added or downloaded so the panel lists it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as vscode from 'vscode';
import { hfCacheDir } from '../hub/hfCache';
import { Disposable } from '../util/disposable';
import { Emitter } from '../util/emitter';
import type { ModelEntry } from './modelChoices';
import { listAllModels } from './modelSources';
import type { ModelSettings } from './modelSettings';

const ADDED_KEY = 'inlineDiffusion.addedModels';
const PREVIEW_KEY = 'inlineDiffusion.previewDecoder';

export class ModelLibrary extends Disposable {
  private readonly changeEmitter = this._register(new Emitter<void>());
  /** A model was added, downloaded or removed. */
  readonly onDidChange = this.changeEmitter.event;

  constructor(
    private readonly state: vscode.Memento,
    /** The extension's global storage folder. */
    readonly storagePath: string,
    private readonly settings: () => ModelSettings,
  ) {
    super();
  }

  /** Downloads in the 'global' layout go here. */
  get downloadRoot(): string {
    return path.join(this.storagePath, 'models');
  }

  /** The Hugging Face hub cache (HF_HUB_CACHE / HF_HOME/hub / ~/.cache/huggingface/hub). */
  get hfCache(): string {
    return hfCacheDir();
  }

  added(): string[] {
    const v = this.state.get<unknown>(ADDED_KEY);
    return Array.isArray(v) ? v.filter((d): d is string => typeof d === 'string') : [];
  }

  async add(dir: string): Promise<void> {
    const list = this.added().filter((d) => path.resolve(d) !== path.resolve(dir));
    await this.state.update(ADDED_KEY, [...list, dir]);
    this.changeEmitter.fire();
  }

  async remove(dir: string): Promise<void> {
    await this.state.update(ADDED_KEY, this.added().filter((d) => path.resolve(d) !== path.resolve(dir)));
    this.changeEmitter.fire();
  }

  /** The downloaded TAESD preview decoder (an .onnx file), if it is still there. */
  previewDecoder(): string | undefined {
    const v = this.state.get<unknown>(PREVIEW_KEY);
    return typeof v === 'string' && fs.existsSync(v) ? v : undefined;
  }

  async setPreviewDecoder(file: string | undefined): Promise<void> {
    await this.state.update(PREVIEW_KEY, file);
  }

  /** Tells listeners a download landed (the folder lists itself). */
  changed(): void {
    this.changeEmitter.fire();
  }

  /** Every model: setting, embedded, added, downloaded, HF cache (when listed). */
  entries(setting: string, workspaceFolder: string | undefined, embeddedDir: string): ModelEntry[] {
    return listAllModels({
      setting, workspaceFolder, embeddedDir, added: this.added(), downloadRoot: this.downloadRoot,
      hfCache: this.settings().listHuggingFaceCache ? this.hfCache : undefined,
    });
  }
}
