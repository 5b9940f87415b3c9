import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectPipelineFiles } from '../../src/hub/fileSelection';
import type { RepoFile } from '../../src/hub/hubClient';
import { ProgressTracker, type DownloadProgress } from '../../src/hub/progress';

const PIPELINE = [
  'model_index.json', 'scheduler/scheduler_config.json', 'text_encoder/config.json', 'text_encoder/model.onnx',
  'tokenizer/merges.txt', 'tokenizer/special_tokens_map.json', 'tokenizer/tokenizer_config.json', 'tokenizer/vocab.json',
  'unet/config.json', 'unet/model.onnx', 'unet/model.onnx_data', 'vae_decoder/config.json', 'vae_decoder/model.onnx', 'vae_encoder/model.onnx',
];
const files = (paths: string[]): RepoFile[] => paths.map((p, i) => ({ path: p, size: 100 + i }));

test('selects the pipeline files and skips PyTorch weights, other graphs, safety checker and docs', () => {
  const junk = [
    '.gitattributes', 'README.md', 'teaser.png', 'LCM_Dreamshaper_v7_4k.safetensors', 'unet/diffusion_pytorch_model.safetensors',
    'text_encoder/pytorch_model.bin', 'text_encoder/model_layernorm.onnx', 'safety_checker/model.onnx', 'feature_extractor/preprocessor_config.json',
    'vae/diffusion_pytorch_model.bin', 'unet/nested/extra.onnx', 'Assets/Preview1.png',
  ];
  const sel = selectPipelineFiles('a/b', files([...junk, ...PIPELINE]));
  assert.deepEqual(sel.files.map((f) => f.path).sort(), [...PIPELINE].sort());
  assert.equal(sel.prefix, '');
  assert.equal(sel.totalBytes, sel.files.reduce((s, f) => s + f.size, 0));
});

test('SDXL: the second text encoder and tokenizer come too; OpenVINO and fp16 PyTorch exports beside them stay', () => {
  const xl = [...PIPELINE, 'text_encoder_2/model.onnx', 'text_encoder_2/model.onnx_data', 'tokenizer_2/vocab.json', 'tokenizer_2/merges.txt'];
  const other = ['unet/openvino_model.xml', 'unet/openvino_model.bin', 'text_encoder_2/openvino_model.bin', 'unet/diffusion_pytorch_model.fp16.safetensors',
    'text_encoder_2/model.fp16.safetensors'];
  assert.deepEqual(selectPipelineFiles('a/xl', files([...xl, ...other])).files.map((f) => f.path).sort(), [...xl].sort());
});

test('a pipeline in a subfolder (onnx/) is found; the root wins when both exist', () => {
  const sub = [...PIPELINE.map((p) => `onnx/${p}`), 'model_index.json', 'unet/diffusion_pytorch_model.safetensors'];
  const sel = selectPipelineFiles('a/sub', files(sub));
  assert.equal(sel.prefix, 'onnx/');
  assert.deepEqual(sel.files.map((f) => f.path).sort(), PIPELINE.map((p) => `onnx/${p}`).sort());
  assert.equal(selectPipelineFiles('a/both', files([...PIPELINE, ...PIPELINE.map((p) => `onnx/${p}`)])).prefix, '');
  assert.equal(selectPipelineFiles('a/both', files([...PIPELINE, ...PIPELINE.map((p) => `onnx/${p}`)]), 'onnx').prefix, 'onnx/');
});

test('what is missing is named', () => {
  assert.throws(() => selectPipelineFiles('a/b', files(PIPELINE.filter((p) => !p.startsWith('scheduler/')))),
    /^HubError: a\/b is not a complete diffusers ONNX pipeline: missing scheduler\/scheduler_config\.json; expected model_index\.json/);
  assert.throws(() => selectPipelineFiles('a/b', files(PIPELINE.filter((p) => p !== 'tokenizer/merges.txt'))),
    /a\/b: tokenizer\/ should hold vocab\.json and merges\.txt \(a CLIP tokenizer\), found special_tokens_map\.json, tokenizer_config\.json, vocab\.json/);
  assert.throws(() => selectPipelineFiles('microsoft/sd-turbo-webnn', files(['text_encoder/model.onnx', 'unet/model.onnx', 'vae_decoder/model.onnx', 'tokenizer/resolve/main/vocab.json'])),
    /microsoft\/sd-turbo-webnn holds no diffusers ONNX pipeline: it has ONNX files \(text_encoder\/model\.onnx, unet\/model\.onnx, vae_decoder\/model\.onnx\) but no model_index\.json/);
});

test('progress: throttled reports with speed and ETA from the last seconds', () => {
  let t = 0;
  const seen: DownloadProgress[] = [];
  const tracker = new ProgressTracker((p) => seen.push(p), 250, 10_000_000, 2, () => t);
  tracker.update({ phase: 'downloading', file: 'unet/model.onnx', fileIndex: 0, fileBytesTotal: 8_000_000 });
  for (let i = 0; i < 100; i++) {
    t += 10; // 100 chunks of 10 kB, 10 ms apart: 1 MB/s
    tracker.addBytes(10_000);
  }
  // One forced report at the start, then one per 250 ms of the 1 s of chunks.
  assert.equal(seen.length, 1 + 4);
  const last = tracker.snapshot();
  assert.deepEqual([last.bytesDone, last.fileBytesDone, last.file, last.fileCount], [1_000_000, 1_000_000, 'unet/model.onnx', 2]);
  assert.ok(Math.abs(last.bytesPerSecond - 1_000_000) < 1, String(last.bytesPerSecond));
  assert.ok(Math.abs(last.etaSeconds! - 9) < 1e-6, String(last.etaSeconds));
  tracker.dropBytes(500_000);
  assert.deepEqual([tracker.snapshot().bytesDone, tracker.snapshot().etaSeconds], [500_000, null]);
});
