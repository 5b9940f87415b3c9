import type { ToEngine } from '../protocol/engineMessages';

/** Accepts what arrives on the engine's IPC channel as a ToEngine message; the request body is validated later. */
export function isToEngine(value: unknown): value is ToEngine {
  if (typeof value !== 'object' || value === null) return false;
  const msg = value as { type?: unknown; id?: unknown; request?: unknown };
  switch (msg.type) {
    case 'generate':
    case 'preload':
      return isRequestId(msg.id) && typeof msg.request === 'object' && msg.request !== null;
    case 'cancel':
    case 'unload':
      return isRequestId(msg.id);
    case 'countTokens': {
      const m = value as { modelDir?: unknown; prompt?: unknown; negativePrompt?: unknown; steps?: unknown; embeddingsDir?: unknown };
      return isRequestId(msg.id) && typeof m.modelDir === 'string' && typeof m.prompt === 'string'
        && typeof m.negativePrompt === 'string' && typeof m.steps === 'number' && Number.isInteger(m.steps) && m.steps >= 1 && m.steps <= 1000
        && (m.embeddingsDir === undefined || m.embeddingsDir === null || typeof m.embeddingsDir === 'string');
    }
    case 'shutdown':
      return true;
    default:
      return false;
  }
}

export function isRequestId(id: unknown): id is number {
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0;
}

/** A short description of a rejected message for the log (never the whole payload). */
export function describeMessage(value: unknown): string {
  if (typeof value !== 'object' || value === null) return typeof value;
  const type = (value as { type?: unknown }).type;
  return typeof type === 'string' ? `type '${type.slice(0, 40)}'` : 'object without a string type';
}
