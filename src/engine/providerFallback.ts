/**
 * The warning a result carries when the requested accelerator could not start and the model runs on the CPU
 * instead. The host reads the same facts from the result's `providerFallback` field, not from this text.
 */
import type { ProviderFallback } from '../protocol/engineMessages';

export function formatProviderFallback(f: ProviderFallback): string {
  return `execution provider fallback: ${f.provider} could not start, running on ${f.ranOn}: ${f.reason}`;
}
