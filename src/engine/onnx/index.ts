/** The onnx room's front door: ONNX Runtime sessions, the model over them, the preview decoder — the engine process only. */
export { loadModel } from './onnxModel';
export { PREVIEW_DECODER_ENV, PreviewDecoder, findPreviewDecoder } from './previewDecoder';
export { ORT_OVERRIDE_ENV, defaultThreadCount, providerOrder, unavailableProviders } from './session';
