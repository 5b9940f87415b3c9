/**
 * A user-facing model problem: which file, and what is wrong with it. Raised by modelFolder.ts (folder layout,
 * configs) and onnx.ts (ONNX Runtime's plain Errors, classified).
 */
export type ModelErrorKind =
  | 'not-a-model'
  | 'missing-file'
  | 'unsupported'
  | 'invalid-config'
  | 'invalid-onnx'
  | 'missing-external-data'
  | 'wrong-input'
  | 'out-of-memory'
  | 'provider-unavailable'
  | 'runtime';

export class ModelError extends Error {
  override readonly name = 'ModelError';

  constructor(
    readonly kind: ModelErrorKind,
    /** The file (or folder) the problem is about. */
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
