import type { Command } from '../util/commandManager';
import type { GpuSupport } from '../models/gpuSupportHost';

/**
 * "Install GPU Support (CUDA)": fetches onnxruntime's CUDA provider libraries (the NuGet package onnxruntime-node's
 * install script uses, verified by size and SHA-512) into the extension's global storage; the engine uses them
 * from the next generation on. Returns the binding folder, or undefined.
 */
export class InstallGpuSupportCommand implements Command {
  readonly id = 'inlineDiffusion.installGpuSupport';

  constructor(private readonly gpu: GpuSupport) {}

  async execute(): Promise<string | undefined> {
    return (await this.gpu.install())?.bindingDir;
  }
}
