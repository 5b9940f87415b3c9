import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Command } from '../util/commandManager';
import { catalogDownload, precisionLabel, readCatalog, type CatalogEntry } from '../hub/downloadCatalog';
import { HubError, formatBytes } from '../hub/hubError';
import { downloadModel, type DownloadModelOptions, type InstalledModel } from '../hub/install';
import { parseRepoId } from '../hub/hubClient';
import { installLoraFile } from '../hub/installLora';
import { formatDownloadProgress, percentOf } from '../models/downloadProgress';
import { readHfToken } from '../models/hfToken';
import { familyName, resolveModelSetting } from '../models/modelChoices';
import { describeInspection, inspectModelFolder } from '../models/modelInspect';
import type { ModelLibrary } from '../models/modelLibrary';
import { readModelSettings } from '../models/modelSettings';
import { offerModelUse } from './modelUse';

type Pick = vscode.QuickPickItem & { readonly entry?: CatalogEntry; readonly anyRepo?: true };

interface Target {
  readonly repoId: string;
  readonly label: string;
  readonly options: Partial<DownloadModelOptions>;
  /** For a TAESD download: the decoder's path inside the repo. */
  readonly previewDecoder?: string;
  /** For a LoRA download: its file inside the repo, the name it gets in the LoRA folder, and whether it is an LCM-LoRA. */
  readonly lora?: { readonly path: string; readonly name: string; readonly lcm: boolean; readonly repo: string };
}

/** An entry whose every file is pinned by its sha256 and size: the download itself checks it. */
function pinnedByHash(e: CatalogEntry): boolean {
  return e.files !== 'auto' && e.files.every((f) => f.sha256 !== undefined && f.size !== undefined);
}

/**
 * "Download Model…": a catalog model (size, family, licence) or any Hugging Face repo id, fetched with a
 * cancellable progress notification (bytes, speed, ETA) into the extension's global storage or the Hugging Face
 * cache layout (setting `inlineDiffusion.downloadLocation`). The model appears only when every file is verified.
 */

export class DownloadModelCommand implements Command {
  readonly id = 'inlineDiffusion.downloadModel';

  constructor(
    private readonly library: ModelLibrary,
    private readonly secrets: vscode.SecretStorage,
    private readonly catalogFile: string,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Arg (tests, links): a catalog id or a repo id; else a quick pick. Returns the installed folder. */
  async execute(arg?: unknown): Promise<string | undefined> {
    let entries: CatalogEntry[] = [];
    try {
      entries = readCatalog(this.catalogFile).models;
    } catch (err) {
      this.log.error((err as Error).message);
    }
    let target: Target | undefined;
    if (typeof arg === 'string') {
      const entry = entries.find((e) => e.id === arg);
      target = entry ? this.fromEntry(entry) : this.fromRepo(arg);
    } else {
      target = await this.pick(entries);
    }
    if (!target) return undefined;
    return this.download(target);
  }

  private fromEntry(e: CatalogEntry): Target {
    const decoder = e.role === 'preview-decoder' && Array.isArray(e.files) ? e.files[0].path : undefined;
    const lora = e.role === 'lora' && Array.isArray(e.files) ? { path: e.files[0].path, name: e.id, lcm: e.lcm === true, repo: e.repo } : undefined;
    return { repoId: e.repo, label: e.label, options: catalogDownload(e), previewDecoder: decoder, lora };
  }

  private fromRepo(input: string): Target | undefined {
    try {
      const repoId = parseRepoId(input);
      return { repoId, label: repoId, options: { repoId } };
    } catch (err) {
      void vscode.window.showErrorMessage(`Inline Diffusion: ${(err as Error).message}`);
      return undefined;
    }
  }

  private async pick(entries: CatalogEntry[]): Promise<Target | undefined> {
    const items: Pick[] = [
      ...entries.map((e): Pick => ({
        label: e.label,
        description: e.role === 'preview-decoder'
          ? `step previews for SD 1.x/2.x models · ~${formatBytes(e.approxBytes)}`
          : e.role === 'lora' ? `LoRA for ${familyName(e.family)} · into inlineDiffusion.loraFolder · ~${formatBytes(e.approxBytes)}`
          : `${familyName(e.family)} · ${precisionLabel(e.precision)} · ~${formatBytes(e.approxBytes)}`,
        detail: `${e.repo} · licence: ${e.license}${e.gated ? ' · gated: needs a Hugging Face token' : ''}${e.verified ? '' : pinnedByHash(e) ? ' · not read from the Hub here: pinned by size and sha256, checked at download' : ' · layout not verified'}`,
        entry: e,
      })),
      { label: '$(search) Any Hugging Face repo id…', description: 'a repo with a diffusers ONNX pipeline (model_index.json, unet/model.onnx, …)', anyRepo: true },
    ];
    const choice = await vscode.window.showQuickPick(items, { title: 'Download a model', matchOnDescription: true, matchOnDetail: true });
    if (!choice) return undefined;
    if (choice.entry) return this.fromEntry(choice.entry);
    const input = await vscode.window.showInputBox({
      title: 'Hugging Face repo id', prompt: 'owner/name, or the repo\'s URL', placeHolder: 'onnx-community/stable-diffusion-v1-5-ONNX',
      ignoreFocusOut: true,
      validateInput: (v) => {
        try {
          parseRepoId(v);
          return undefined;
        } catch (err) {
          return (err as Error).message;
        }
      },
    });
    return input === undefined ? undefined : this.fromRepo(input);
  }

  private async download(target: Target): Promise<string | undefined> {
    const { repoId, label, options } = target;
    const settings = readModelSettings((key) => vscode.workspace.getConfiguration('inlineDiffusion').get(key));
    const hfCache = settings.downloadLocation === 'huggingFaceCache';
    const token = await readHfToken(this.secrets);
    let installed: InstalledModel;
    try {
      installed = await vscode.window.withProgress({
        location: vscode.ProgressLocation.Notification, title: `Downloading ${label}`, cancellable: true,
      }, async (progress, cancelToken) => {
        const controller = new AbortController();
        cancelToken.onCancellationRequested(() => controller.abort());
        let lastPercent = 0;
        return downloadModel({
          ...options, repoId,
          layout: hfCache ? 'hf-cache' : 'global',
          root: hfCache ? this.library.hfCache : this.library.downloadRoot,
          client: { token, log: (m) => this.log.info(m) }, // the client redacts the token from its messages
          signal: controller.signal,
          log: (m) => this.log.info(m),
          onProgress: (p) => {
            const percent = percentOf(p);
            progress.report({ message: formatDownloadProgress(p), increment: Math.max(0, percent - lastPercent) });
            lastPercent = Math.max(lastPercent, percent);
          },
        });
      });
    } catch (err) {
      await this.explainFailure(label, err);
      return undefined;
    }
    this.log.info(`installed ${installed.repoId}@${installed.commit} in ${installed.dir}${installed.alreadyInstalled ? ' (already there)' : ''}`);
    if (target.previewDecoder !== undefined) {
      const file = path.join(installed.dir, ...target.previewDecoder.split('/'));
      await this.library.setPreviewDecoder(file);
      this.library.changed();
      void vscode.window.showInformationMessage(`Inline Diffusion: ${label} is installed; step previews of SD 1.x/2.x models now go through it.`);
      return file;
    }
    if (target.lora !== undefined) return this.installLora(target.lora, path.join(installed.dir, ...target.lora.path.split('/')), installed.commit);
    this.library.changed();
    let summary = path.basename(installed.dir);
    try {
      const inspection = await inspectModelFolder(installed.dir);
      summary = describeInspection(inspection);
    } catch (err) {
      void vscode.window.showWarningMessage(`Inline Diffusion: downloaded ${label}, but it does not read as a model: ${(err as Error).message}`);
      return installed.dir;
    }
    void offerModelUse(installed.dir, `${installed.alreadyInstalled ? 'Already installed' : 'Downloaded'} ${label} (${summary}).`);
    return installed.dir;
  }

  /**
   * A downloaded LoRA copied into the LoRA folder as `<name>.safetensors`, with `<name>.json` beside it saying where
   * it came from (and `"lcm": true` for an LCM-LoRA, which makes the engine sample with LCM).
   */
  private async installLora(lora: NonNullable<Target['lora']>, file: string, commit: string): Promise<string | undefined> {
    const setting = vscode.workspace.getConfiguration('inlineDiffusion').get<string>('loraFolder', '').trim();
    const folder = setting === '' ? undefined : resolveModelSetting(setting, vscode.workspace.workspaceFolders?.[0]?.uri.fsPath);
    if (folder === undefined) {
      void vscode.window.showWarningMessage(`Inline Diffusion: ${lora.name} is downloaded (${file}); set inlineDiffusion.loraFolder `
        + `${setting === '' ? '' : '(an absolute path, ~/…, or a path in an open workspace folder) '}to a folder and download it again `
        + 'to use it as <lora:…> in prompts.');
      return file;
    }
    const installed = await installLoraFile(folder, file, { name: lora.name, lcm: lora.lcm, repo: lora.repo, commit });
    const renamed = installed.name === lora.name ? '' : ` (as ${installed.name}: a different ${lora.name}.safetensors was already there and is kept)`;
    void vscode.window.showInformationMessage(`Inline Diffusion: ${lora.name} is in your LoRA folder${renamed}: add <lora:${installed.name}:1> to a prompt`
      + (lora.lcm ? ' (an LCM-LoRA: the LCM sampler runs; use 4–8 steps and CFG 1–2).' : '.'));
    return installed.path;
  }

  private async explainFailure(label: string, err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    this.log.error(`download of ${label} failed: ${message}`);
    if (err instanceof HubError && err.kind === 'cancelled') {
      void vscode.window.showInformationMessage(`Inline Diffusion: ${message}`);
      return;
    }
    if (err instanceof HubError && err.kind === 'needs-token') {
      const choice = await vscode.window.showErrorMessage(`Inline Diffusion: ${message}`, 'Set Hugging Face Token');
      if (choice === 'Set Hugging Face Token') await vscode.commands.executeCommand('inlineDiffusion.setHuggingFaceToken');
      return;
    }
    void vscode.window.showErrorMessage(`Inline Diffusion: could not download ${label}: ${message}`);
  }
}
