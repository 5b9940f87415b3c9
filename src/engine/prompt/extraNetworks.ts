/**
 * AUTOMATIC1111's extra-network tags (modules/extra_networks.py parse_prompt): every `<kind:arg1:arg2…>` (kind a
 * word, arguments anything but `>`) is cut out of the prompt before it is parsed, and handed to whoever handles
 * that kind (`<lora:name:0.8>`, `<hypernet:name:1>`); items with exactly one `=` are named arguments.
 */
import { PY_WORD } from './pythonText';

/** One tag's arguments, as A1111's ExtraNetworkParams holds them. */
export interface ExtraNetworkParams {
  readonly items: string[];
  readonly positional: string[];
  readonly named: Record<string, string>;
}

/** A handler for one kind of tag (LoRA…): receives every tag of its kind, returns warnings to show. */
export type ExtraNetworkHandler = (params: readonly ExtraNetworkParams[]) => readonly string[];

const EXTRA_NETWORK_TAG = new RegExp(`<([${PY_WORD}]+):([^>]+)>`, 'gu');

function paramsOf(args: string): ExtraNetworkParams {
  const items = args.split(':');
  const positional: string[] = [];
  const named: Record<string, string> = {};
  for (const item of items) {
    const parts = item.split('=');
    if (parts.length === 2) named[parts[0]] = parts[1];
    else positional.push(item);
  }
  return { items, positional, named };
}

/** The prompt without its extra-network tags, and the tags by kind in the order they appear. */
export function extractExtraNetworks(prompt: string): { prompt: string; networks: Map<string, ExtraNetworkParams[]> } {
  const networks = new Map<string, ExtraNetworkParams[]>();
  const stripped = prompt.replace(EXTRA_NETWORK_TAG, (_, kind: string, args: string) => {
    const list = networks.get(kind) ?? [];
    list.push(paramsOf(args));
    networks.set(kind, list);
    return '';
  });
  return { prompt: stripped, networks };
}

/** Hands each kind of tag to its handler; kinds without one give a warning naming them (the tags are ignored). */
export function handleExtraNetworks(networks: ReadonlyMap<string, readonly ExtraNetworkParams[]>,
    handlers: Readonly<Record<string, ExtraNetworkHandler>>): string[] {
  const warnings: string[] = [];
  const unknown: string[] = [];
  for (const [kind, params] of networks) {
    const handler = Object.hasOwn(handlers, kind) ? handlers[kind] : undefined;
    if (handler === undefined) {
      unknown.push(...params.map((p) => `<${kind}:${p.items.join(':')}>`));
    } else {
      warnings.push(...handler(params));
    }
  }
  if (unknown.length > 0) {
    warnings.push(`extra networks are not supported here, ignored: ${unknown.join(' ')}`);
  }
  return warnings;
}
