/**
 * The shapes of a Hub install (install.ts): its options, the files it pins and writes, its manifest and result.
 * Types only, so plan.ts, installHfCache.ts and downloadCatalog.ts name them without importing install.ts back.
 */
import type { HubClient, HubClientOptions } from './hubClient';
import type { ProgressListener } from './progress';

export type InstallLayout = 'global' | 'hf-cache';

/** A file the catalog pins: its path in the repo and, where known, its sha256 and size in bytes. */
export interface PinnedFile {
  readonly path: string;
  readonly sha256?: string;
  readonly size?: number;
}

export interface DownloadModelOptions {
  readonly repoId: string;
  /** Branch, tag or commit; default "main". */
  readonly revision?: string;
  readonly layout: InstallLayout;
  /** 'global': the folder that holds installed models; 'hf-cache': the hub cache folder (hfCacheDir()). */
  readonly root: string;
  readonly client?: HubClient | HubClientOptions;
  /** Default: the pipeline's files found in the repo's listing ('auto'). */
  readonly files?: 'auto' | readonly PinnedFile[];
  /** The folder of the pipeline inside the repo ("onnx"); default: found in the listing. */
  readonly subfolder?: string;
  readonly onProgress?: ProgressListener;
  /** Least time between progress reports; default 250 ms. */
  readonly progressIntervalMs?: number;
  readonly signal?: AbortSignal;
  /** Free bytes on the disk holding `dir` (injectable for tests); default fs.statfs. */
  readonly freeSpace?: (dir: string) => Promise<number>;
  readonly log?: (message: string) => void;
}

export interface ManifestFile {
  /** Path inside the installed model folder. */
  readonly path: string;
  /** Path in the repo. */
  readonly repoPath: string;
  readonly size: number;
  readonly sha256?: string;
  readonly gitOid?: string;
}

/** manifest.json of a model in the 'global' layout. */
export interface Manifest {
  readonly repo: string;
  readonly revision: string;
  readonly commit: string;
  readonly subfolder: string;
  readonly files: ManifestFile[];
  readonly installedAt: string;
}

export interface InstalledModel {
  /** The folder with model_index.json: give it to readModelFolder. */
  readonly dir: string;
  readonly repoId: string;
  readonly revision: string;
  readonly commit: string;
  readonly layout: InstallLayout;
  readonly files: ManifestFile[];
  /** True when this commit was installed before and nothing was downloaded. */
  readonly alreadyInstalled: boolean;
}
