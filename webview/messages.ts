import type { ToWebview } from '../src/protocol/webviewMessages';

/** Every ToWebview type (a Record, so a type added to the union and missing here fails to compile). */
const TYPES: Readonly<Record<ToWebview['type'], true>> = {
  setup: true, networks: true, loadParams: true, queue: true, progress: true, image: true, jobEnded: true, saved: true, tokenCounts: true,
  notice: true, inputImage: true,
};

/** Accepts what the host posts as a ToWebview message (the host is trusted; this catches version skew). */
export function isToWebview(value: unknown): value is ToWebview {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return typeof type === 'string' && Object.hasOwn(TYPES, type);
}

/** RGB bytes as they arrive: a Uint8Array (VS Code transfers typed arrays) or, from older hosts, a plain array or object. */
export function toBytes(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return Uint8Array.from(value as number[]);
  if (typeof value === 'object' && value !== null) {
    const values = Object.values(value as Record<string, unknown>);
    if (values.every((v) => typeof v === 'number')) return Uint8Array.from(values as number[]);
  }
  return undefined;
}
