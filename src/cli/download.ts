/**
 * `inline-diffusion download OWNER/NAME`: the extension's own downloader (src/hub/) into the Hugging Face cache, so
 * the CLI, the extension and Python tools share one copy: the pipeline's files only, verified by size and checksum,
 * resumed where a run stopped. Prints the model folder (for --model) on stdout.
 */
import { hfCacheDir } from '../hub/hfCache';
import { formatBytes } from '../hub/hubError';
import { downloadModel } from '../hub/install';
import type { DownloadProgress } from '../hub/progress';
import type { DownloadArgs } from './args';

export interface DownloadIo {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly env: NodeJS.ProcessEnv;
}

export async function runDownload(args: DownloadArgs, io: DownloadIo, signal?: AbortSignal): Promise<string> {
  const tty = !args.quiet && io.stderr.isTTY === true;
  let last = '';
  const onProgress = (p: DownloadProgress): void => {
    if (!tty || p.file === null) return;
    const line = `${p.fileIndex + 1}/${p.fileCount} ${p.file}: ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`;
    io.stderr.write(`\r${line}${' '.repeat(Math.max(0, last.length - line.length))}`);
    last = line;
  };
  const token = io.env.HF_TOKEN || io.env.HUGGING_FACE_HUB_TOKEN || undefined;
  try {
    const installed = await downloadModel({
      repoId: args.repo, revision: args.revision, layout: 'hf-cache', root: hfCacheDir(io.env),
      client: { token, ...(io.env.HF_ENDPOINT ? { endpoint: io.env.HF_ENDPOINT } : {}) }, onProgress, signal,
    });
    if (last !== '') io.stderr.write('\n');
    if (!args.quiet) io.stderr.write(`${installed.alreadyInstalled ? 'already downloaded' : 'downloaded'}: ${installed.repoId}@${installed.commit.slice(0, 12)}\n`);
    io.stdout.write(`${installed.dir}\n`);
    return installed.dir;
  } catch (err) {
    if (last !== '') io.stderr.write('\n');
    throw err;
  }
}
