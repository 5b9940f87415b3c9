/**
 * The engine process: forked by the extension host (src/generation/engineClient.ts) with an IPC channel using
 * serialization 'advanced'. Runs one generation at a time; `cancel` is honoured between denoising steps.
 * Exits when the host disconnects.
 */
import { assertNever } from '../common/assertNever';
import type { FromEngine, GenerateRequest, ToEngine } from '../protocol/engineMessages';
import { Engine, EngineError } from './engine';
import { describeMessage, isToEngine } from './messages';
import { signalWarm } from '../launch/warmEvent';

function send(msg: FromEngine): void {
  if (process.connected) process.send?.(msg);
}

function main(): void {
  if (!process.send) {
    console.error('inline-diffusion engine: start this through the extension (it needs an IPC channel); use dist/cli.js on a terminal');
    process.exit(2);
  }
  const engine = new Engine({ log: (level, message) => send({ type: 'log', level, message }) });
  const controllers = new Map<number, AbortController>();

  // The Engine runs its calls one at a time, in the order they were made: no queue of our own is needed here.
  const handle = (msg: ToEngine): void => {
    switch (msg.type) {
      case 'generate': {
        const controller = new AbortController();
        controllers.set(msg.id, controller);
        void runGenerate(engine, msg.id, msg.request, controller.signal).finally(() => controllers.delete(msg.id));
        break;
      }
      case 'preload': {
        const controller = new AbortController();
        controllers.set(msg.id, controller);
        void engine.preload(msg.request, { signal: controller.signal }).then( // validated inside, as a generation's
          (loadMs) => send({ type: 'preloaded', id: msg.id, loadMs }),
          (err: unknown) => send({ type: 'preloaded', id: msg.id, loadMs: 0, error: err instanceof Error ? err.message : String(err) }),
        ).finally(() => controllers.delete(msg.id));
        break;
      }
      case 'cancel':
        controllers.get(msg.id)?.abort();
        break;
      case 'unload':
        void engine.release().then(() => send({ type: 'unloaded', id: msg.id }));
        break;
      case 'countTokens':
        void engine.countTokens(msg.modelDir, msg.prompt, msg.negativePrompt, msg.steps, msg.embeddingsDir ?? undefined).then(
          (counts) => send({ type: 'tokenCounts', id: msg.id, ...counts }),
          (err: unknown) => send({ type: 'error', id: msg.id, code: err instanceof EngineError ? err.code : 'internal', message: err instanceof Error ? err.message : String(err) }),
        );
        break;
      case 'shutdown':
        for (const c of controllers.values()) c.abort();
        void engine.release().finally(() => process.exit(0));
        break;
      default:
        assertNever(msg, 'message');
    }
  };

  process.on('message', (raw: unknown) => {
    if (!isToEngine(raw)) {
      send({ type: 'log', level: 'error', message: `engine: ignored a malformed message (${describeMessage(raw)})` });
      return;
    }
    handle(raw);
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', pid: process.pid });
}

async function runGenerate(engine: Engine, id: number, request: unknown, signal: AbortSignal): Promise<void> {
  try {
    const output = await engine.generate(request as GenerateRequest, { // validated inside generate
      signal,
      onProgress: (p) => send({ type: 'progress', id, step: p.step, totalSteps: p.totalSteps, stepMs: p.stepMs, previews: p.previews,
        ...(p.pass === undefined ? {} : { pass: p.pass }) }),
    });
    send({ type: 'result', id, images: output.images, timingsMs: output.timingsMs, executionProvider: output.executionProvider, warnings: output.warnings,
      ...(output.providerFallback === undefined ? {} : { providerFallback: output.providerFallback }),
      ...(output.fp32Copy === undefined ? {} : { fp32Copy: output.fp32Copy }) });
    signalWarm(); // the compile cache (src/launch/) keeps what a generation compiled; later engine processes start faster
  } catch (err) {
    if (err instanceof EngineError) send({ type: 'error', id, code: err.code, message: err.message });
    else {
      // An engine bug: the user sees the message, the output channel gets the stack.
      send({ type: 'log', level: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) });
      send({ type: 'error', id, code: 'internal', message: `internal error: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
}

main();
