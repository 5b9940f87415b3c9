import type { IDisposable } from './disposable';

/** An event: subscribe with a listener, get back a disposable that unsubscribes (vscode.Event without vscode). */
export type Event<T> = (listener: (value: T) => void) => IDisposable;

/** A tiny event emitter usable outside the extension host's `vscode` module (so node tests can load it). */
export class Emitter<T> implements IDisposable {
  private listeners: Array<(value: T) => void> = [];

  readonly event: Event<T> = (listener) => {
    this.listeners.push(listener);
    return { dispose: () => { this.listeners = this.listeners.filter((l) => l !== listener); } };
  };

  /** Calls every listener; one that throws is reported and does not stop the others (nor reach the caller). */
  fire(value: T): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(value);
      } catch (err) {
        console.error('inline-diffusion: an event listener failed:', err);
      }
    }
  }

  dispose(): void {
    this.listeners = [];
  }
}
