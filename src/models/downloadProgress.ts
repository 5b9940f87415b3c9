/** Download progress as a notification line: "unet/model.onnx · 1.20 GB of 2.14 GB · 12.3 MB/s · 1m 17s left". No `vscode`. */
import { formatDuration } from '../common/formatDuration';
import { formatBytes } from '../hub/hubError';
import type { DownloadProgress } from '../hub/progress';


export function formatDownloadProgress(p: DownloadProgress): string {
  switch (p.phase) {
    case 'listing':
      return 'asking the Hub for the file list…';
    case 'verifying':
      return `verifying ${p.file ?? 'files'}…`;
    case 'installing':
      return 'installing…';
    case 'done':
      return 'done';
    case 'downloading': {
      const parts = [`${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`];
      if (p.file !== null) parts.unshift(`${p.file} (${p.fileIndex + 1}/${p.fileCount})`);
      if (p.bytesPerSecond > 0) parts.push(`${formatBytes(p.bytesPerSecond)}/s`);
      if (p.etaSeconds !== null) parts.push(`${formatDuration(p.etaSeconds)} left`);
      return parts.join(' · ');
    }
    default:
      return p.phase satisfies never;
  }
}

/** Percent of the whole download, 0…100. */
export function percentOf(p: DownloadProgress): number {
  return p.bytesTotal > 0 ? Math.min(100, (100 * p.bytesDone) / p.bytesTotal) : 0;
}
