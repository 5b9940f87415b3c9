import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyOrtError, providerOrder } from '../../../src/engine/onnx/session';

const FILE = '/models/sd/unet/model.onnx';

/** ORT messages as onnxruntime-node 1.30 throws them (recorded here, plain Errors without codes). */
const recorded: Array<[string, string]> = [
  ['missing-file', "Load model from /models/sd/unet/model.onnx failed:Load model /models/sd/unet/model.onnx failed. File doesn't exist"],
  ['invalid-onnx', 'Load model from /models/sd/unet/model.onnx failed:Protobuf parsing failed.'],
  ['missing-external-data', 'External data path validation failed for initializer: w. Error: tensorprotoutils.cc:461 ValidateExternalDataPathFromDir External data path does not exist: "/models/sd/unet/weights.pb"'],
  ['wrong-input', "input 'sample' is missing in 'feeds'."],
  ['wrong-input', 'Got invalid dimensions for input: x for the following indices\n index: 1 Got: 4 Expected: 3\n Please fix either the inputs/outputs or the model.'],
  ['wrong-input', 'Invalid rank for input: x Got: 1 Expected: 2 Please fix either the inputs/outputs or the model.'],
  ['wrong-input', 'Unexpected input data type. Actual: (tensor(int32)) , expected: (tensor(float))'],
  ['out-of-memory', '[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Non-zero status code returned while running Conv node. Name:\'conv\' Status Message: Failed to allocate memory for requested buffer of size 4294967296'],
  ['out-of-memory', 'std::bad_alloc'],
  ['runtime', 'Session already disposed.'],
];

test('classifies ORT\'s plain Errors into ModelError kinds naming the file', () => {
  const got = recorded.map(([, m]) => {
    const e = classifyOrtError(new Error(m), FILE, 'run');
    assert.ok(e.message.includes(FILE), e.message);
    assert.equal(e.file, FILE);
    return e.kind;
  });
  assert.deepEqual(got, recorded.map(([k]) => k));
});

test('auto tries the platform accelerator first, then cpu', () => {
  assert.deepEqual(
    [providerOrder('auto', 'linux'), providerOrder('auto', 'win32'), providerOrder('auto', 'darwin'),
      providerOrder('auto', 'freebsd'), providerOrder('cpu', 'linux'), providerOrder('dml', 'win32')],
    [['cuda', 'cpu'], ['dml', 'cpu'], ['coreml', 'cpu'], ['cpu'], ['cpu'], ['dml', 'cpu']],
  );
});
