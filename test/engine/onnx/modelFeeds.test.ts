import { test } from 'node:test';
import assert from 'node:assert/strict';
import { divide, scale } from '../../../src/engine/onnx/modelFeeds';

// Recorded with numpy 2.4.6 (float32 array and a Python float, which numpy and torch round to float32 first):
// x = np.array([...], dtype=np.float32); x / 0.18215; 0.18215 * x.
const X = [1.0, -2.75, 0.12345679104328156, 3.3333332538604736, -0.5000001192092896, 7.25, 1.9999998807907104, -3.1415927410125732];
const X_DIV = [5.489980697631836, -15.09744644165039, 0.6777753829956055, 18.29993438720703, -2.7449910640716553,
  39.80236053466797, 10.979960441589355, -17.247283935546875];
const X_MUL = [0.1821500062942505, -0.5009125471115112, 0.02248765528202057, 0.6071666479110718, -0.09107502549886703,
  1.3205875158309937, 0.3642999827861786, -0.5722411274909973];

test('VAE decode input = latents / scaling_factor as a float32 division (diffusers, numpy/torch)', () => {
  assert.deepEqual(Array.from(divide(Float32Array.from(X), 0.18215)), X_DIV);
});

test('img2img latents = scaling_factor · encoded, the factor rounded to float32 (diffusers, numpy/torch)', () => {
  assert.deepEqual(Array.from(scale(Float32Array.from(X), 0.18215)), X_MUL);
});
