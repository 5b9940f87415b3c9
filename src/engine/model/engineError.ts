import type { EngineErrorCode } from '../../protocol/engineMessages';

/** An engine failure the host can classify (src/protocol/engineMessages.ts `error.code`). */
export class EngineError extends Error {
  readonly code: EngineErrorCode;

  constructor(code: EngineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineError';
    this.code = code;
  }
}
