/**
 * Loads the host's work on first use (src/hostLazy.ts, bundled apart as dist/host-lazy.js beside dist/extension.js)
 * and holds it until deactivation. The require is by a computed path, so esbuild leaves it to run time and neither
 * bundle holds a second copy of the other's modules.
 */
import * as path from 'node:path';
import type { Host, HostParts, InlineDiffusionApi } from './hostLazy';
import type { IDisposable } from './util/disposable';

/** src/hostLazy.ts's bundle (esbuild.js), in the folder of dist/extension.js. */
export const LAZY_HOST_BUNDLE = 'host-lazy.js';

export class LazyHost implements IDisposable {
  private host: Host | undefined;
  private disposed = false;

  /** `parts` is asked once, when the host loads. */
  constructor(private readonly parts: () => HostParts) {}

  get isLoaded(): boolean {
    return this.host !== undefined;
  }

  /** The host, loaded now if it is not yet. */
  get(): Host {
    if (this.host) return this.host;
    if (this.disposed) throw new Error('expected an active Inline Diffusion extension; it was deactivated');
    const { Host: HostClass } = require(path.join(__dirname, LAZY_HOST_BUNDLE)) as typeof import('./hostLazy');
    this.host = new HostClass(this.parts());
    return this.host;
  }

  /** activate's return value: each member loads the host when read. */
  api(): InlineDiffusionApi {
    const get = () => this.get();
    return {
      get generationHost() { return get().generationHost; },
      get panels() { return get().panels; },
      get library() { return get().library; },
      get providerStatus() { return get().providerStatus; },
    };
  }

  dispose(): void {
    this.disposed = true;
    this.host?.dispose();
  }
}
