/**
 * The warning a result carries when the requested accelerator could not start and the model runs on the CPU
 * instead, and its parser for the host (which explains what is missing and offers a fix).
 */

const PREFIX = 'execution provider fallback: ';

export interface ProviderFallback {
  /** The provider that could not start ("cuda", "dml", "coreml"). */
  readonly provider: string;
  /** The provider the model runs on instead. */
  readonly ranOn: string;
  /** ONNX Runtime's message. */
  readonly reason: string;
}

export function formatProviderFallback(f: ProviderFallback): string {
  return `${PREFIX}${f.provider} could not start, running on ${f.ranOn}: ${f.reason}`;
}

export function parseProviderFallback(warning: string): ProviderFallback | undefined {
  if (!warning.startsWith(PREFIX)) return undefined;
  const m = /^(\w+) could not start, running on (\w+): ([\s\S]*)$/.exec(warning.slice(PREFIX.length));
  return m ? { provider: m[1], ranOn: m[2], reason: m[3] } : undefined;
}
