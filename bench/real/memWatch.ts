/**
 * Runs a command and samples its /proc/<pid>/status every 50 ms: prints the command's JSON lines, then one summary
 * line with the peaks of VmRSS, RssAnon and RssFile between samples and the child's last VmHWM (Linux).
 * Usage: node --import tsx bench/real/memWatch.ts COMMAND ARGS…
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { memOf, type MemSnapshot } from './memProbe';

const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
const peak = { vmRss: 0, rssAnon: 0, rssFile: 0, vmHwm: 0 };
let lines = '';
const take = (m: MemSnapshot | undefined): void => {
  if (m === undefined) return;
  for (const k of ['vmRss', 'rssAnon', 'rssFile', 'vmHwm'] as const) if (m[k] > peak[k]) peak[k] = m[k];
};
child.stdout.on('data', (d: Buffer) => {
  process.stdout.write(d);
  lines += d.toString();
});
const timer = setInterval(() => take(memOf(child.pid as number)), 50);
const load = loadavg();
child.on('exit', (code) => {
  clearInterval(timer);
  for (const l of lines.split('\n')) {
    if (!l.startsWith('{')) continue;
    try { take(JSON.parse(l) as MemSnapshot); } catch { /* not a snapshot */ }
  }
  const g = (b: number): number => Math.round(b / 2 ** 20) / 1024;
  process.stdout.write(`${JSON.stringify({ summary: true, code, loadavgStart: load, loadavgEnd: loadavg(),
    peakGiB: { vmHwm: g(peak.vmHwm), vmRss: g(peak.vmRss), rssAnon: g(peak.rssAnon), rssFile: g(peak.rssFile) } })}\n`);
});
