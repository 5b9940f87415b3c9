/**
 * GPU support in the extension host: at activation, points the engine at an installed GPU support copy of
 * onnxruntime-node (file checks only, no ONNX Runtime); "Install GPU Support (CUDA)" runs the install with a
 * cancellable progress notification and restarts the engine so the next generation tries CUDA with it.
 * INLINE_DIFFUSION_NUGET_INDEX overrides the NuGet feed (a mirror).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ORT_OVERRIDE_ENV } from '../protocol/engineEnv';
import { Disposable } from '../util/disposable';
import { formatDownloadProgress, percentOf } from './downloadProgress';
import { installedGpuSupport, installGpuSupport, NUGET_INDEX, type GpuInstall } from './gpuSupport';

/** The generation host as GPU support sees it (src/generation/generationHost.ts): the engine process's extra environment. */
export interface EngineEnvironment {
  setEngineEnv(extra: Record<string, string | undefined>): void;
}

export class GpuSupport extends Disposable {
  private readonly ortPackageDir: string;
  private installed: GpuInstall | undefined;

  constructor(private readonly storageDir: string, extensionPath: string, private readonly generationHost: EngineEnvironment,
    private readonly log: vscode.LogOutputChannel) {
    super();
    this.ortPackageDir = path.join(extensionPath, 'node_modules', 'onnxruntime-node');
    this.installed = installedGpuSupport(storageDir, this.ortPackageDir);
    if (this.installed) generationHost.setEngineEnv({ [ORT_OVERRIDE_ENV]: this.installed.ortNodeDir });
  }

  /** The binding folder the engine loads (the GPU support copy's when installed). */
  bindingDir(): string {
    return this.installed?.bindingDir ?? path.join(this.ortPackageDir, 'bin', 'napi-v6', process.platform, process.arch);
  }

  get current(): GpuInstall | undefined {
    return this.installed;
  }

  /** Installs with progress; resolves with the install, or undefined when cancelled or failed (the user was told). */
  async install(): Promise<GpuInstall | undefined> {
    try {
      this.installed = await vscode.window.withProgress({
        location: vscode.ProgressLocation.Notification, title: 'Installing GPU support (onnxruntime CUDA provider)', cancellable: true,
      }, async (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        let last = 0;
        return installGpuSupport({
          storageDir: this.storageDir, ortPackageDir: this.ortPackageDir, signal: controller.signal,
          feedIndex: process.env.INLINE_DIFFUSION_NUGET_INDEX || NUGET_INDEX,
          onProgress: (p) => {
            const percent = percentOf(p);
            progress.report({ message: formatDownloadProgress(p), increment: Math.max(0, percent - last) });
            last = Math.max(last, percent);
          },
        });
      });
    } catch (err) {
      const message = (err as Error).message;
      this.log.error(`GPU support: ${message}`);
      void vscode.window.showErrorMessage(`Inline Diffusion: GPU support was not installed: ${message}`);
      return undefined;
    }
    this.log.info(`GPU support: ${this.installed.manifest.package} → ${this.installed.bindingDir} (${this.installed.manifest.files.map((f) => `${f.name} sha256 ${f.sha256}`).join(', ')})`);
    this.generationHost.setEngineEnv({ [ORT_OVERRIDE_ENV]: this.installed.ortNodeDir });
    void vscode.window.showInformationMessage('Inline Diffusion: GPU support is installed. The next generation tries CUDA '
      + '(it also needs an NVIDIA driver, CUDA 12 and cuDNN 9 on this machine; without them it goes on on the CPU and says what is missing).');
    return this.installed;
  }
}
