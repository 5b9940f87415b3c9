/** The onnx room's front door: ONNX Runtime sessions, the model over them, the preview decoder — the engine process only. */
export { loadModel } from './onnxModel';
export { PreviewDecoder, findPreviewDecoder } from './previewDecoder';
export { createSession, defaultThreadCount, nextProvider, providerOrder, sessionOptionsFor, sessionProvider, unavailableProviders } from './session';
export type { OnnxSession } from './session';
export { float16ToFloat32, float32ToFloat16 } from './fp16';
