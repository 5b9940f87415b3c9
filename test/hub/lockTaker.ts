/**
 * A child process for the lock take-over test: for each trial k, waits until `start + k * slotMs` (so every
 * taker tries at the same moment), then tries to take `<dir>/lock-k` and holds it for `holdMs`. Prints one JSON
 * line per trial: { k, result: 'held' | 'busy' | <other error>, from, to } (from/to: when it held the lock, ms).
 */
import * as path from 'node:path';
import { withDownloadLock } from '../../src/hub/downloadLock';
import { HubError } from '../../src/hub/hubError';

const [dir, startText, trialsText, slotText, holdText] = process.argv.slice(2);
const start = Number(startText);
const slotMs = Number(slotText);

async function main(): Promise<void> {
  for (let k = 0; k < Number(trialsText); k++) {
    const at = start + k * slotMs;
    while (Date.now() < at - 20) await new Promise((r) => setTimeout(r, 5));
    while (Date.now() < at) { /* spin: every taker starts within a millisecond */ }
    let result: string;
    let from = 0;
    let to = 0;
    try {
      await withDownloadLock(path.join(dir, `lock-${k}`), 'o/r', async () => {
        from = Date.now();
        await new Promise((r) => setTimeout(r, Number(holdText)));
        to = Date.now();
      });
      result = 'held';
    } catch (e) {
      result = e instanceof HubError && e.kind === 'busy' ? 'busy' : `error: ${(e as Error).message}`;
    }
    process.stdout.write(`${JSON.stringify({ k, result, from, to })}\n`);
  }
}
void main();
