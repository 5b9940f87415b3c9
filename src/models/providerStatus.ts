/**
 * The status bar item saying which execution provider runs the model (from each engine result), and — once per
 * provider and reason — a warning when the requested GPU provider could not start: what is missing (onnxruntime's
 * CUDA provider libraries, or CUDA 12 / cuDNN 9), that the generation went on on the CPU, and what to do.
 */
import * as vscode from 'vscode';
import type { ProviderFallback } from '../protocol/engineMessages';
import { ranFp16OnCpu } from '../engine/model';
import { Disposable } from '../util/disposable';
import type { Event } from '../util/emitter';
import { diagnoseProviderFailure, hasNvidiaDriver, libraryDirs } from './gpuDiagnosis';

const NAMES: Readonly<Record<string, string>> = { cpu: 'CPU', cuda: 'CUDA', dml: 'DirectML', coreml: 'CoreML', webgpu: 'WebGPU' };
export const INSTALL_GPU_COMMAND = 'inlineDiffusion.installGpuSupport';

export function providerLabel(provider: string): string {
  return NAMES[provider] ?? provider;
}

/** What the status item learns from each engine result. */
export interface EngineResultInfo {
  /** The request's executionProvider setting. */
  readonly requested: string;
  /** The provider that ran the UNet ("cpu", "cuda", …). */
  readonly executionProvider: string;
  readonly warnings: readonly string[];
  /** Set when the requested provider could not start. */
  readonly providerFallback?: ProviderFallback;
  /** Set when an fp16 model ran on the CPU from its fp32 copy (the engine's line saying so). */
  readonly fp32Copy?: string;
}

/** The generation host as the status item sees it (src/generation/generationHost.ts). */
export interface EngineResults {
  readonly onEngineResult: Event<EngineResultInfo>;
}

export class ProviderStatus extends Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly warned = new Set<string>();

  constructor(
    generationHost: EngineResults,
    /** The binding folder the engine loads now (where CUDA provider libraries must be). */
    private readonly bindingDir: () => string,
  ) {
    super();
    this.item = this._register(vscode.window.createStatusBarItem('inlineDiffusion.executionProvider', vscode.StatusBarAlignment.Right, 100));
    this.item.name = 'Inline Diffusion: execution provider';
    this._register(generationHost.onEngineResult((r) => this.update(r)));
  }

  /** The item's text ("$(chip) CUDA") after the last result. */
  get text(): string {
    return this.item.text;
  }

  private update(r: EngineResultInfo): void {
    if (this.isDisposed) return;
    const label = providerLabel(r.executionProvider);
    this.item.text = `$(chip) ${label}`;
    this.item.tooltip = `Inline Diffusion runs on ${label} (setting: ${r.requested})`;
    this.item.command = { command: 'workbench.action.openSettings', title: 'Execution provider', arguments: ['inlineDiffusion.executionProvider'] };
    if (ranFp16OnCpu(r.warnings)) {
      // fp16 on the CPU: slower and no smaller than fp32 (measured, issue 15) — said once, and on the item while it lasts
      this.item.text = `$(chip) ${label} · fp16`;
      this.item.tooltip = `${this.item.tooltip} — this model is fp16: on the CPU it runs slower, and no smaller, than its fp32 version`;
      if (!this.warned.has('fp16-on-cpu')) {
        this.warned.add('fp16-on-cpu');
        void vscode.window.showInformationMessage('Inline Diffusion: this model is fp16, which on the CPU runs slower (and takes no less '
          + 'memory) than its fp32 version. For CPU generation pick the fp32 download of the model; fp16 is for GPUs.');
      }
    }
    if (r.fp32Copy !== undefined) {
      // an fp16 model on the CPU, run from its fp32 copy (issue 15): said once, and on the item while it lasts
      this.item.text = `$(chip) ${label} · fp32 copy`;
      this.item.tooltip = `${this.item.tooltip} — ${r.fp32Copy}`;
      if (!this.warned.has('fp32-copy')) {
        this.warned.add('fp32-copy');
        void vscode.window.showInformationMessage(`Inline Diffusion: ${r.fp32Copy}.`);
      }
    }
    this.item.show();
    const fallback = r.providerFallback;
    if (fallback === undefined) return;
    if (r.requested === 'auto' && fallback.provider === 'cuda' && !hasNvidiaDriver()) {
      this.item.tooltip = `${this.item.tooltip} — no NVIDIA driver found, so CUDA is not used`;
      return; // 'auto' on a machine without an NVIDIA GPU: the CPU is the expected outcome, no warning
    }
    const key = `${fallback.provider}\n${fallback.reason}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    void this.explain(fallback.provider, fallback.ranOn, fallback.reason);
  }

  private async explain(provider: string, ranOn: string, reason: string): Promise<void> {
    const d = diagnoseProviderFailure({ provider, reason, bindingDir: this.bindingDir(), libDirs: libraryDirs() });
    const buttons = [...(d.offerInstall ? ['Install GPU Support (CUDA)'] : []), 'Use CPU Only'];
    const choice = await vscode.window.showWarningMessage(
      `Inline Diffusion: ${d.message} The image was generated on the ${providerLabel(ranOn)} instead.`, ...buttons);
    if (choice === 'Install GPU Support (CUDA)') await vscode.commands.executeCommand(INSTALL_GPU_COMMAND);
    else if (choice === 'Use CPU Only') {
      await vscode.workspace.getConfiguration('inlineDiffusion').update('executionProvider', 'cpu', vscode.ConfigurationTarget.Global);
    }
  }
}
