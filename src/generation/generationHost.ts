/**
 * The host side of generating, shared by the panel and the commands: settings, models, the engine client (its
 * process forked on the first generation), the job queue, saving images into the workspace, and the "Retry" error
 * after an engine crash.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PanelNetworks, PanelParams, PanelSetup } from '../protocol/webviewMessages';
import { EngineClient, EngineClientError } from './engineClient';
import { defaultModelDir, EMBEDDING_EXTENSIONS, listNetworkFiles, LORA_EXTENSIONS, preferredWeight } from '../engine/model';
import { imageFileName } from '../engine/image';
import type { ModelInfo } from '../engine/model';
import { describeModels, listModels, ModelInfoCache, type ModelEntry } from '../models/modelChoices';
import type { ModelLibrary } from '../models/modelLibrary';
import type { EngineResultInfo } from '../models/providerStatus';
import { PREVIEW_DECODER_ENV } from '../protocol/engineEnv';
import { PANEL_LIMITS } from './panelLimits';
import { firstLine } from '../common/firstLine';
import { readPromptWords } from '../models/promptWords';
import { Disposable } from '../util/disposable';
import { Emitter } from '../util/emitter';
import { GenerationService, type FinishedImage, type Job, type JobSpec } from './generationService';
import type { RgbImage } from '../protocol/engineMessages';
import { resolveOutputFolder, saveImageAt, saveImageInto } from './imageFiles';
import { ResultStore } from './resultStore';
import { buildRequests, randomSeed, withConcreteSeed } from './requestBuilder';
import { samplerChoices } from './samplers';
import { readSettings, withResolvedNetworkFolders, type ExtensionSettings } from './settings';
import { variationsOf } from './seedsAndSize';

const SIZE_PRESETS = [256, 384, 512, 640, 768, 1024];

export class GenerationHost extends Disposable {
  readonly engine: EngineClient;
  readonly service: GenerationService;
  private readonly modelCache = new ModelInfoCache();
  /** The last text document the user was in (the panel takes focus, so "the active document" is this one). */
  private lastDocument: vscode.Uri | undefined = vscode.window.activeTextEditor?.document.uri;
  private readonly savedEmitter = this._register(new Emitter<FinishedImage>());
  private readonly settingsEmitter = this._register(new Emitter<void>());
  /** An image was saved (by auto-save, Save, Insert or an illustration). */
  readonly onDidSave = this.savedEmitter.event;
  /** Settings under `inlineDiffusion` changed, or the list of models did. */
  readonly onDidChangeSettings = this.settingsEmitter.event;
  private readonly resultEmitter = this._register(new Emitter<EngineResultInfo>());
  /** Every engine result: which execution provider ran it and its warnings. */
  readonly onEngineResult = this.resultEmitter.event;
  /** Extra environment for the engine process (e.g. the GPU support copy of onnxruntime-node). */
  private engineEnv: Record<string, string | undefined> = {};
  private restartWhenIdle = false;
  /** Results not saved yet, kept in the extension's storage so they outlive a window reload (none without a folder). */
  readonly results: ResultStore | undefined;

  constructor(private readonly extensionPath: string, private readonly output: vscode.LogOutputChannel, private readonly library?: ModelLibrary,
    resultsDir?: string, /** The last text document before this was made (followed since activation). */ lastDocument?: vscode.Uri) {
    super();
    if (lastDocument) this.lastDocument = lastDocument;
    this.results = resultsDir === undefined ? undefined : new ResultStore(resultsDir, undefined, undefined,
      (r, why) => this.output.warn(`dropped the unsaved image ${r.imageId} (seed ${r.seed}) from the extension's storage: ${why}`));
    this.engine = new EngineClient({
      enginePath: path.join(extensionPath, 'dist', 'engine.js'),
      // the extension host may run inside Electron: its fork must behave as plain Node
      env: () => ({ ...process.env, ELECTRON_RUN_AS_NODE: '1', ...this.engineEnv }),
      startTimeoutMs: 60_000,
      onLog: (level, message) => this.log(level, message),
      onCrash: (description) => this.output.error(description),
    });
    this.service = this._register(new GenerationService({
      generate: async (request, opts) => {
        const result = await this.engine.generate(request, opts);
        this.resultEmitter.fire({
          requested: request.executionProvider, executionProvider: result.executionProvider, warnings: result.warnings,
          ...(result.providerFallback === undefined ? {} : { providerFallback: result.providerFallback }),
          ...(result.fp32Copy === undefined ? {} : { fp32Copy: result.fp32Copy }),
        });
        return result;
      },
      cancel: () => this.engine.cancel(),
    }));
    this._register(this.service.onDidChangeQueue(() => {
      if (this.restartWhenIdle && this.service.queue.length === 0) this.restartEngine();
    }));
    if (library) {
      this.engineEnv = previewEnv(library);
      this._register(library.onDidChange(() => {
        this.modelCache.forget();
        this.setEngineEnv(previewEnv(library));
        this.settingsEmitter.fire();
      }));
    }
    this._register({ dispose: () => void this.engine.dispose() });
    this._register(this.service.onImage((image) => {
      this.autoSave(image);
      // saved synchronously by auto-save when it could; otherwise the host keeps the only copy until Save
      if (image.savedPath === null) this.results?.keep(image).catch((err: Error) => this.output.error(`could not keep ${image.imageId}: ${err.message}`));
    }));
    this._register(this.service.onJobEnded(({ job, outcome }) => {
      if (outcome.status === 'failed' && job.spec.source === 'panel') void this.showFailure(job, outcome.error);
    }));
    this._register(vscode.window.onDidChangeActiveTextEditor((editor) => {
      if (editor) this.lastDocument = editor.document.uri;
    }));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('inlineDiffusion')) return;
      this.modelCache.forget();
      this.settingsEmitter.fire();
    }));
  }

  settings(): ExtensionSettings {
    const config = vscode.workspace.getConfiguration('inlineDiffusion');
    return withResolvedNetworkFolders(readSettings((key) => config.get(key)), this.workspaceFolderPath());
  }

  models(): ModelEntry[] {
    const embedded = defaultModelDir(path.join(this.extensionPath, 'dist'));
    return this.library
      ? this.library.entries(this.settings().model, this.workspaceFolderPath(), embedded)
      : listModels(this.settings().model, this.workspaceFolderPath(), embedded);
  }

  /**
   * Sets (or, with undefined, removes) environment variables of the engine process; a running engine is restarted (now when idle, else
   * after the queue empties) so the next generation sees them.
   */
  setEngineEnv(extra: Record<string, string | undefined>): void {
    const env = { ...this.engineEnv };
    for (const [key, value] of Object.entries(extra)) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
    if (JSON.stringify(env) === JSON.stringify(this.engineEnv)) return;
    this.engineEnv = env;
    if (!this.engine.isRunning) return;
    if (this.service.queue.length === 0) this.restartEngine();
    else this.restartWhenIdle = true;
  }

  private restartEngine(): void {
    this.restartWhenIdle = false;
    if (this.engine.isRunning) this.engine.kill('cancelled', 'the engine restarts with new settings');
  }

  modelInfo(dir: string): Promise<ModelInfo> {
    return this.modelCache.read(dir);
  }

  /** Choices, defaults and limits for the panel. */
  async panelSetup(): Promise<PanelSetup> {
    const settings = this.settings();
    const entries = this.models();
    const models = (await describeModels(entries, this.modelCache)).map((m, i) => ({ ...m, words: readPromptWords(entries[i].dir) }));
    const native = models[0]?.nativeSize ?? 512;
    const defaults: PanelParams = {
      prompt: '', negativePrompt: '', sampler: settings.sampler, steps: settings.steps, cfgScale: settings.cfgScale,
      seed: randomSeed(1), randomSeed: true, width: settings.width || native, height: settings.height || native,
      batchCount: 1, model: models[0]?.id ?? '', clipSkip: settings.clipSkip,
    };
    return {
      samplers: samplerChoices(), models, defaults, limits: PANEL_LIMITS, autoSave: settings.autoSave,
      previews: settings.previews, sizePresets: [...new Set([native, ...SIZE_PRESETS])].sort((a, b) => a - b),
      ...withNetworks(panelNetworks(settings.loraFolder, settings.embeddingsFolder)),
    };
  }

  /** The LoRA and embeddings folders the settings name ('' when unset), for the panel's watcher. */
  networkFolders(): { lora: string; embeddings: string } {
    const settings = this.settings();
    return { lora: settings.loraFolder, embeddings: settings.embeddingsFolder };
  }

  /** Why a token count failed, for the output channel (the panel shows no counter then). */
  logCount(err: unknown): void {
    this.output.info(`token counter: ${err instanceof Error ? err.message : String(err)}`);
  }

  /** A1111's token counters ("23/75") for the prompt fields, with the model's tokenizer. */
  async countTokens(prompt: string, negativePrompt: string, modelId: string, steps: number): Promise<{ prompt: string; negativePrompt: string }> {
    const model = this.models().find((m) => m.id === modelId);
    if (!model) throw new Error(`the model ${modelId} is no longer offered; pick another one`);
    const folder = this.settings().embeddingsFolder;
    const counts = await this.engine.countTokens(model.dir, prompt, negativePrompt, steps, folder === '' ? undefined : folder);
    const show = (c: { tokens: number; limit: number }): string => `${c.tokens}/${c.limit}`;
    return { prompt: show(counts.prompt), negativePrompt: show(counts.negativePrompt) };
  }

  /** Queues a generation from validated panel parameters; throws EngineError / ModelError with a readable message. */
  /** Queues the params' images; with `initImage`, image to image from it (the panel's input image). */
  async enqueue(params: PanelParams, source: JobSpec['source'], initImage: RgbImage | null = null): Promise<Job> {
    const settings = this.settings();
    const model = this.models().find((m) => m.id === params.model);
    if (!model) throw new Error(`the model ${params.model} is no longer offered; pick another one`);
    const info = await this.modelInfo(model.dir);
    const concrete = withConcreteSeed(params);
    return this.service.enqueue({ source, params: concrete, requests: buildRequests(concrete, info.dir, settings, initImage) });
  }

  /**
   * A result's "Variations" (the panel's button, a hover's link): its parameters and seed with new random variation
   * seeds at the configured strength, inlineDiffusion.variationCount images; refused for an image that is a variation.
   */
  async enqueueVariations(params: PanelParams, seed: number):
      Promise<{ ok: true; job: Job; params: PanelParams } | { ok: false; reason: string }> {
    const settings = this.settings();
    const made = variationsOf(params, seed, { count: settings.variationCount, strength: settings.variationStrength });
    if (!made.ok) return made;
    return { ok: true, job: await this.enqueue(made.params, 'panel'), params: made.params };
  }

  /**
   * Saves an image into the output folder of the document's workspace folder (else the first one); without a
   * workspace, asks where with a save dialog. Returns the path, or undefined when the user cancelled the dialog.
   */
  async save(image: FinishedImage, document?: vscode.Uri): Promise<string | undefined> {
    if (image.savedPath !== null) return image.savedPath;
    const settings = this.settings();
    const docUri = document ?? vscode.window.activeTextEditor?.document.uri ?? this.lastDocument;
    const docFolder = docUri ? vscode.workspace.getWorkspaceFolder(docUri) : undefined;
    const root = docFolder?.uri.fsPath ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const dir = resolveOutputFolder(settings.outputFolder, docFolder?.uri.fsPath, vscode.workspace.workspaceFolders?.[0]?.uri.fsPath);
    let file: string;
    const name = imageFileName(image.params.prompt, image.image.seed);
    if (dir !== undefined) {
      // an untrusted workspace cannot send images out of itself (a symlinked folder, "..", an absolute path)
      const confineTo = vscode.workspace.isTrusted ? undefined : root;
      file = saveImageInto(dir, image.params.prompt, image.image.seed, image.image.png, { confineTo });
    } else {
      const near = docUri?.scheme === 'file' ? path.dirname(docUri.fsPath) : undefined;
      const target = await vscode.window.showSaveDialog({
        title: 'Save the generated image',
        defaultUri: near ? vscode.Uri.file(path.join(near, name)) : undefined,
        filters: { 'PNG image': ['png'] },
      });
      if (!target) return undefined;
      file = saveImageAt(target.fsPath, image.image.png);
    }
    image.savedPath = file;
    this.output.info(`saved ${file}`);
    this.results?.markSaved(image, file).catch((err: Error) => this.output.error(`could not update the kept copy of ${image.imageId}: ${err.message}`));
    this.savedEmitter.fire(image);
    return file;
  }

  /** An image of this session, or one the extension's storage kept from before a window reload. */
  async findImage(imageId: string): Promise<FinishedImage | undefined> {
    return this.service.getImage(imageId) ?? (await this.results?.find(imageId));
  }

  /** Forgets an unsaved image (Discard): its kept copy is removed. Returns false when nothing held it. */
  async discard(imageId: string): Promise<boolean> {
    const inSession = this.service.forget(imageId);
    const inStore = (await this.results?.discard(imageId)) ?? false;
    return inSession || inStore;
  }

  /** A path for messages: workspace-relative when inside one. */
  displayPath(file: string): string {
    return vscode.workspace.asRelativePath(file, vscode.workspace.workspaceFolders !== undefined && vscode.workspace.workspaceFolders.length > 1);
  }

  private autoSave(image: FinishedImage): void {
    if (this.service.isDisposed) return;
    if (image.source !== 'panel' || !this.settings().autoSave) return;
    if (vscode.workspace.workspaceFolders === undefined) return; // no workspace: the panel's Save asks where
    this.save(image).catch((err: Error) => {
      void vscode.window.showErrorMessage(`Inline Diffusion: could not save the image: ${err.message}`);
    });
  }

  private async showFailure(job: Job, error: Error): Promise<void> {
    const crashed = error instanceof EngineClientError && (error.code === 'crashed' || error.code === 'start-failed');
    const message = crashed ? `Inline Diffusion: the engine stopped: ${firstLine(error.message)}` : `Inline Diffusion: ${firstLine(error.message)}`;
    const choice = await vscode.window.showErrorMessage(message, 'Retry', 'Show Log');
    if (choice === 'Retry') this.service.enqueue(job.spec);
    else if (choice === 'Show Log') this.output.show(true);
  }

  private workspaceFolderPath(): string | undefined {
    const doc = vscode.window.activeTextEditor?.document.uri ?? this.lastDocument;
    const folder = doc ? vscode.workspace.getWorkspaceFolder(doc) : undefined;
    return (folder ?? vscode.workspace.workspaceFolders?.[0])?.uri.fsPath;
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    if (level === 'error') this.output.error(message);
    else if (level === 'warn') this.output.warn(message);
    else this.output.info(message);
  }
}

/** The downloaded TAESD decoder for the engine's step previews (a model's own taesd/ folder wins there). */
function previewEnv(library: ModelLibrary): Record<string, string | undefined> {
  const file = library.previewDecoder();
  return { [PREVIEW_DECODER_ENV]: file };
}


/** The picker's lists of two folders ('' when unset): undefined when neither is set. */
export function panelNetworks(loraFolder: string, embeddingsFolder: string): PanelNetworks | undefined {
  if (loraFolder === '' && embeddingsFolder === '') return undefined;
  const loras = [...listNetworkFiles(loraFolder, LORA_EXTENSIONS).values()];
  const weights = loras.flatMap((l) => { const w = preferredWeight(l.file); return w === undefined ? [] : [[l.name, w] as const]; });
  return {
    loras: loras.map((l) => l.name),
    embeddings: [...listNetworkFiles(embeddingsFolder, EMBEDDING_EXTENSIONS).keys()],
    ...(weights.length === 0 ? {} : { loraWeights: Object.fromEntries(weights) }),
  };
}

const withNetworks = (networks: PanelNetworks | undefined): { networks?: PanelNetworks } => (networks === undefined ? {} : { networks });
