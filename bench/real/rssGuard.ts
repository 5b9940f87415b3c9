/**
 * Runs a measurement with a memory ceiling, for `npm run bench:real` on a shared machine: the child's resident
 * memory (VmRSS) is read every 100 ms and the child is killed once it passes LIMIT_GIB, before the kernel's OOM
 * killer picks a process of someone else. The child's stdout passes through; when it was stopped, one JSON line says
 * so instead: { stoppedAtBytes, afterMs, peakRssBytes, rssTimeline: [[ms, bytes] every second], stderrTail }.
 * Usage: node --import tsx bench/real/rssGuard.ts LIMIT_GIB COMMAND ARGS...
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';

const [limitArg, command, ...args] = process.argv.slice(2);
const limit = Number(limitArg) * 2 ** 30;
const start = performance.now();
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'pipe'] });
let stderr = '';
child.stderr.setEncoding('utf8');
child.stderr.on('data', (chunk: string) => {
  process.stderr.write(chunk);
  stderr = (stderr + chunk).slice(-4000);
});
let peak = 0;
let stopped: number | undefined;
const timeline: Array<[number, number]> = [];
let lastSecond = -1;
const poll = setInterval(() => {
  let rss: number;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
    rss = m ? Number(m[1]) * 1024 : 0;
  } catch {
    return;
  }
  peak = Math.max(peak, rss);
  const ms = performance.now() - start;
  if (Math.floor(ms / 1000) !== lastSecond) {
    lastSecond = Math.floor(ms / 1000);
    timeline.push([Math.round(ms), rss]);
  }
  if (rss > limit && stopped === undefined) {
    stopped = rss;
    child.kill('SIGKILL');
  }
}, 100);
child.on('exit', (code, signal) => {
  clearInterval(poll);
  if (stopped !== undefined) {
    process.stdout.write(`${JSON.stringify({ error: `stopped by the memory guard at ${(stopped / 2 ** 30).toFixed(2)} GiB (limit ${limitArg} GiB) after ${((performance.now() - start) / 1000).toFixed(1)} s`,
      stoppedAtBytes: stopped, afterMs: performance.now() - start, peakRssBytes: peak, rssTimeline: timeline, stderrTail: stderr.slice(-1500) })}\n`);
    process.exit(0);
  }
  process.exit(code ?? (signal ? 1 : 0));
});
