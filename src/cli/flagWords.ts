/**
 * The engine's request problems in the command line's words: "batchSize: …" becomes "--batch: …", a sampler name
 * that is nearly right gets a suggestion, and several problems fit on one line.
 */
import { allowedSamplerNames, listSamplers } from '../engine/schedulers';
import { SEEDS_AND_SIZE_FLAG_WORDS } from './seedsAndSizeArgs';

const FLAGS: Readonly<Record<string, string>> = {
  modelDir: '--model', prompt: '--prompt', negativePrompt: '--negative-prompt', sampler: '--sampler', steps: '--steps',
  cfgScale: '--cfg', seed: '--seed', width: '--width', height: '--height', batchSize: '--batch', initImage: '--init-image',
  strength: '--strength', resizeMode: '--resize-mode', rng: '--rng', executionProvider: '--provider', threads: '--threads',
  'inpaint.mask': '--mask', 'inpaint.maskBlur': '--mask-blur', 'inpaint.maskMode': '--mask-mode',
  'inpaint.maskedContent': '--masked-content', 'inpaint.inpaintArea': '--inpaint-area', 'inpaint.inpaintPadding': '--inpaint-padding',
  ...SEEDS_AND_SIZE_FLAG_WORDS,
};

/** Edit distance (insertions, deletions, substitutions), case-insensitive. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let row = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const next = [i];
    for (let j = 1; j <= y.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    row = next;
  }
  return row[y.length];
}

/** The accepted sampler name closest to `name`, when it is close enough to be a typo. */
export function closestSampler(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of allowedSamplerNames()) {
    const d = distance(name.trim(), candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** The one-line message for an unknown --sampler. */
export function samplerMessage(name: string): string {
  const near = closestSampler(name);
  const ids = listSamplers().map((s) => s.id).join(', ');
  return `--sampler: unknown sampler '${name}'${near ? `; did you mean '${near}'?` : ''} `
    + `(samplers: ${ids}; A1111 names such as "Euler a" and diffusers class names work too)`;
}

/** One problem line of validateRequest ("field: expected …") in the flag's words. */
export function problemInFlagWords(problem: string, samplerName: string | null): string {
  const colon = problem.indexOf(': ');
  const field = colon < 0 ? '' : problem.slice(0, colon);
  const flag = FLAGS[field];
  if (flag === undefined) return problem;
  if (field === 'sampler' && samplerName !== null) return samplerMessage(samplerName);
  let rest = problem.slice(colon + 2);
  if (field === 'threads') rest = rest.replace(' or null', ' (leave --threads out for ONNX Runtime\'s default)');
  rest = rest.replace(/batchSize/g, '--batch').replace(/\bseed \+ /g, '--seed + ');
  return `${flag}: ${rest}`;
}

/** validateRequest's message ("invalid request (2 problems):\n- a\n- b") as one line in the flags' words. */
export function requestProblemsInFlagWords(message: string, samplerName: string | null): string {
  const lines = message.split('\n').filter((l) => l.startsWith('- ')).map((l) => problemInFlagWords(l.slice(2), samplerName));
  return lines.length === 0 ? message.replace(/\n/g, ' ') : lines.join('; ');
}
