/**
 * Why a GPU execution provider could not start, in words a user can act on. ONNX Runtime 1.30 only says
 * "Failed to load shared library" for CUDA, so the files are looked at: onnxruntime's CUDA provider libraries
 * beside the binding (npm fetches them only at install time, and the extension's install skips that), then the
 * CUDA 12 / cuDNN 9 runtime libraries on the loader's path. No `vscode` import.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** onnxruntime's CUDA provider libraries, next to libonnxruntime (what onnxruntime-node's install.js fetches on linux/x64). */
export const CUDA_PROVIDER_LIBS = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'] as const;

/** The CUDA 12 / cuDNN 9 runtime libraries the CUDA provider links against (the ones most often missing). */
export const CUDA_RUNTIME_LIBS = ['libcudart.so.12', 'libcublasLt.so.12', 'libcublas.so.12', 'libcufft.so.11', 'libcudnn.so.9'] as const;

/** Where the dynamic loader looks on Linux besides LD_LIBRARY_PATH (ldconfig's usual folders and CUDA's own). */
export const SYSTEM_LIB_DIRS = [
  '/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib', '/lib/x86_64-linux-gnu',
  '/usr/local/cuda/lib64', '/usr/local/cuda-12/lib64',
];

export type GpuProblem = 'ort-provider-libs' | 'cuda-runtime' | 'driver-or-device' | 'other';

export interface GpuDiagnosis {
  readonly problem: GpuProblem;
  /** What is missing and what to do, one or two sentences. */
  readonly message: string;
  /** Offer "Install GPU Support (CUDA)". */
  readonly offerInstall: boolean;
}

function exists(file: string): boolean {
  try {
    fs.accessSync(file);
    return true;
  } catch {
    return false;
  }
}

/** The CUDA runtime libraries found in none of `dirs`. */
export function missingCudaRuntimeLibs(dirs: readonly string[]): string[] {
  return CUDA_RUNTIME_LIBS.filter((lib) => !dirs.some((d) => exists(path.join(d, lib))));
}

export interface DiagnoseOptions {
  /** The provider that could not start ("cuda", "dml", "coreml"). */
  readonly provider: string;
  /** ONNX Runtime's message. */
  readonly reason: string;
  /** The binding folder the engine loads (where the provider libraries must be). */
  readonly bindingDir: string;
  /** Folders searched for the CUDA runtime (LD_LIBRARY_PATH's, then SYSTEM_LIB_DIRS). */
  readonly libDirs: readonly string[];
  readonly platform?: NodeJS.Platform;
}

export function diagnoseProviderFailure(o: DiagnoseOptions): GpuDiagnosis {
  const platform = o.platform ?? process.platform;
  if (o.provider === 'cuda' && platform === 'linux') {
    const missingOrt = CUDA_PROVIDER_LIBS.filter((lib) => !exists(path.join(o.bindingDir, lib)));
    if (missingOrt.length > 0) {
      return {
        problem: 'ort-provider-libs', offerInstall: true,
        message: `onnxruntime's CUDA provider libraries are missing (${missingOrt.join(', ')}): npm fetches them only when `
          + 'onnxruntime-node is installed, and the extension ships without them. "Install GPU Support (CUDA)" downloads them.',
      };
    }
    const missingCuda = missingCudaRuntimeLibs(o.libDirs);
    if (missingCuda.length > 0) {
      return {
        problem: 'cuda-runtime', offerInstall: false,
        message: `CUDA 12 and cuDNN 9 are needed for the CUDA provider; not found: ${missingCuda.join(', ')} `
          + '(install the CUDA 12 toolkit or runtime and cuDNN 9, or add their lib folders to LD_LIBRARY_PATH).',
      };
    }
    if (/driver|no CUDA-capable device|cudaErrorNoDevice|CUDA failure 100|CUDA failure 35/i.test(o.reason)) {
      return { problem: 'driver-or-device', offerInstall: false, message: `no usable NVIDIA GPU or driver: ${o.reason}` };
    }
  }
  const what = o.provider === 'dml' ? 'DirectML' : o.provider === 'coreml' ? 'CoreML' : o.provider.toUpperCase();
  return { problem: 'other', offerInstall: false, message: `${what} could not start: ${o.reason}` };
}

/** Whether an NVIDIA driver is loaded (Linux): without one, 'auto' not getting CUDA is no news. */
export function hasNvidiaDriver(): boolean {
  return exists('/proc/driver/nvidia/version') || exists('/dev/nvidiactl');
}

/** LD_LIBRARY_PATH's folders, then the usual system ones. */
export function libraryDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = (env.LD_LIBRARY_PATH ?? '').split(':').filter((d) => d !== '');
  return [...fromEnv, ...SYSTEM_LIB_DIRS];
}
