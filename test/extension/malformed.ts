/**
 * Malformed messages posted into the Generate Image panel's channel to the host: the same call the webview's
 * `acquireVsCodeApi().postMessage(m)` makes (VS Code's webview frame forwards `('onmessage', { message })` to the
 * host). Wrong types, out-of-range numbers, unknown message types, huge and deeply nested values.
 */
import { evaluateIn } from './pageScript';
import { EXTENSION_ID } from './panel';
import type { Page } from './playwright';

/** How many messages sendRawMessages posts. */
export const MALFORMED_MESSAGE_COUNT = 56;

export async function sendRawMessages(page: Page): Promise<number> {
  const outer = page.locator(`iframe.webview.ready[src*="extensionId=${EXTENSION_ID}"]`).first();
  const outerBody = page.frameLocator(`iframe.webview.ready[src*="extensionId=${EXTENSION_ID}"]`).first().locator('body');
  await outer.waitFor({ state: 'attached', timeout: 10_000 });
  return evaluateIn(outerBody, () => {
    const post = (window as unknown as Record<string, unknown>).__vscode_post_message__;
    if (typeof post !== 'function') throw new Error('expected VS Code\'s webview frame to define __vscode_post_message__');
    const base: Record<string, unknown> = {
      prompt: 'never generated', negativePrompt: '', sampler: 'euler', steps: 4, cfgScale: 7, seed: 1,
      randomSeed: false, width: 64, height: 64, batchCount: 1, model: 'default',
    };
    let deep: unknown = 'bottom';
    for (let i = 0; i < 2000; i++) deep = { type: 'generate', params: deep };
    const huge = 'x'.repeat(2_000_000);
    const badParams: Array<Record<string, unknown>> = [
      { prompt: 42 }, { prompt: null }, { prompt: huge }, { negativePrompt: ['a'] },
      { steps: -1 }, { steps: 0 }, { steps: 1e9 }, { steps: Number.NaN }, { steps: '20' }, { steps: 2.5 },
      { cfgScale: Number.POSITIVE_INFINITY }, { cfgScale: -3 }, { seed: -1 }, { seed: 2 ** 64 }, { seed: 'seed' },
      { width: 7 }, { width: 100000 }, { height: 0 }, { height: Number.NaN }, { batchCount: 0 }, { batchCount: 1e6 },
      { sampler: 'no-such-sampler' }, { sampler: 7 }, { model: '../../../../etc' }, { model: null },
      { randomSeed: 'yes' }, { strength: 2 }, { resizeMode: 'stretch' },
    ];
    const messages: unknown[] = [
      null, undefined, 42, 'generate', [], [{ type: 'generate' }], true,
      {}, { type: 7 }, { type: 'no-such-type' }, { type: '__proto__' }, { type: 'constructor' },
      { type: 'generate' }, { type: 'generate', params: null }, { type: 'generate', params: 'a red circle' },
      ...badParams.map((p) => ({ type: 'generate', params: { ...base, ...p } })),
      { type: 'cancel', jobId: 'all' }, { type: 'save', imageId: 123 }, { type: 'insert', imageId: '../../../etc/passwd' },
      { type: 'open', imageId: null }, { type: 'copySeed', seed: Number.NaN }, deep,
      // image to image: an unknown input image id, bytes that are not an image, a string for bytes, a non-file URI
      { type: 'generate', params: base, inputImageId: 'ffffffffffffffff' }, { type: 'useAsInput', imageId: '../x' },
      { type: 'inputImageData', name: 'notes.txt', data: new TextEncoder().encode('hello') },
      { type: 'inputImageData', name: 'x.png', data: huge }, { type: 'inputImageUri', uri: 'https://example.com/x.png' },
      { type: 'inputImageUri', uri: 'file:///no/such/file.png' }, { type: 'inputImageData', name: 'x.png', data: new Uint8Array(0) },
    ];
    for (const message of messages) (post as (c: string, d: unknown) => void)('onmessage', { message });
    return messages.length;
  }, null, 30_000);
}
