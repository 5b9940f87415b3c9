/**
 * The process event a bundle run through src/launch/compileCache.ts emits once it has done its typical work (the
 * CLI after writing its images, the engine process after its first generation): the loader then saves V8's cache
 * of everything compiled so far. Emitting it without the loader (tests, `node --import tsx`) does nothing.
 */
export const COMPILE_CACHE_WARM_EVENT = 'inline-diffusion:compile-cache-warm';

export function signalWarm(): void {
  (process as NodeJS.EventEmitter).emit(COMPILE_CACHE_WARM_EVENT);
}
