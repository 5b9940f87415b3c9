/**
 * Types for the part of fast-png 8 we use. Its package.json has only `exports` (no `types`), which the
 * repo's `moduleResolution: node` cannot follow; this mirrors node_modules/fast-png/lib/types.d.ts.
 */
declare module 'fast-png' {
  export type PngDataArray = Uint8Array | Uint8ClampedArray | Uint16Array;
  export type BitDepth = 1 | 2 | 4 | 8 | 16;
  export interface DecodedPng {
    width: number;
    height: number;
    data: PngDataArray;
    depth: BitDepth;
    channels: number;
    text: Record<string, string>;
    /** [r, g, b] or, with a tRNS chunk, [r, g, b, a] per index. */
    palette?: number[][];
    /** Colour-key transparency for grey/RGB images (tRNS). */
    transparency?: Uint16Array;
  }
  export interface ImageData {
    width: number;
    height: number;
    data: PngDataArray;
    depth?: BitDepth;
    channels?: number;
    text?: Record<string, string>;
  }
  export function decode(data: ArrayBufferLike | ArrayBufferView, options?: { checkCrc?: boolean }): DecodedPng;
  export function encode(png: ImageData, options?: { interlace?: 'null' | 'Adam7' }): Uint8Array;
  export function hasPngSignature(array: ArrayLike<number>): boolean;
}
