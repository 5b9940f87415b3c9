/** A minimal disposable: anything with dispose(). Structurally compatible with vscode.Disposable. */
export interface IDisposable {
  dispose(): void;
}

/**
 * Base class for long-lived host objects (as in VS Code's markdown-language-features): whatever a subclass
 * subscribes to, watches or spawns is handed to `_register` the moment it is created and disposed with it.
 * After dispose, `isDisposed` is true and subclasses make their methods quiet no-ops.
 */
export abstract class Disposable implements IDisposable {
  private readonly disposables: IDisposable[] = [];
  private disposed = false;

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposeAll(this.disposables.splice(0));
  }

  protected _register<T extends IDisposable>(value: T): T {
    if (this.disposed) value.dispose();
    else this.disposables.push(value);
    return value;
  }
}

/** Disposes every item (last registered first); one failure does not stop the rest. */
export function disposeAll(items: IDisposable[]): void {
  for (const item of items.reverse()) {
    try {
      item.dispose();
    } catch {
      // a failing dispose must not keep the others alive
    }
  }
}

/** Wraps a function as a disposable. */
export function toDisposable(fn: () => void): IDisposable {
  let done = false;
  return { dispose: () => { if (!done) { done = true; fn(); } } };
}
