/**
 * Hugging Face Hub: find, download and list models without `vscode` (the extension's commands and the CLI
 * build on this). See install.ts for the layouts and the guarantees.
 */
export { HubClient, parseRepoId, DEFAULT_ENDPOINT } from './hubClient';
export type { HubClientOptions, RepoFile, RepoInfo } from './hubClient';
export { HubError, redactToken, formatBytes } from './hubError';
export type { HubErrorKind } from './hubError';
export { selectPipelineFiles, isPipelineFile, PIPELINE_FOLDERS } from './fileSelection';
export type { PipelineSelection } from './fileSelection';
export { downloadModel, globalModelDir, readManifest, statfsFreeBytes, MANIFEST_FILE } from './install';
export type { DownloadModelOptions, InstalledModel, InstallLayout, Manifest, ManifestFile, PinnedFile } from './install';
export type { DownloadProgress, ProgressListener } from './progress';
export { hfCacheDir, listHfCacheModels, findPipelineDir, repoFolderName } from './hfCache';
export type { HfCachedModel } from './hfCache';
export { readCatalog, parseCatalog, catalogDownload } from './catalog';
export type { Catalog, CatalogEntry, CatalogSettings } from './catalog';
