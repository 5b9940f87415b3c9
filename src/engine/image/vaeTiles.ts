/**
 * Tiled VAE decoding as diffusers' AutoencoderKL.tiled_decode does it (diffusers 0.40
 * src/diffusers/models/autoencoders/autoencoder_kl.py): the latent is cut into tiles of `tileLatent` (the VAE's
 * sample_size / 8) that overlap by a quarter (a stride of ⌊tileLatent · 0.75⌋, the last tiles of a row or column
 * cut short by the edge), each tile decoded on its own, then in row-major order each decoded tile is blended in
 * place with the one above (blend_v) and the one to its left (blend_h) over ⌊tileSample · 0.25⌋ pixels, and the
 * top-left ⌊tileSample · 0.75⌋ pixels of each kept. The decoder's GroupNorm sees one tile at a time, so the result
 * is not the untiled picture; its memory is that of one tile whatever the image size.
 */

/** diffusers' tile_overlap_factor. */
export const TILE_OVERLAP_FACTOR = 0.25;

export interface VaeTiling {
  /** diffusers' tile_latent_min_size: the tile side in latents (sample_size / 2^(blocks − 1)). */
  readonly tileLatent: number;
  /** diffusers' tile_sample_min_size: the same tile in pixels (the VAE's sample_size). */
  readonly tileSample: number;
}

/** Decodes one latent tile 1×C×th×tw → 1×3×(th·f)×(tw·f) in [-1, 1]. */
export type TileDecoder = (tile: Float32Array, dims: [number, number, number, number]) => Promise<Float32Array>;

/** diffusers' condition for tiling: a latent side larger than the tile. */
export function needsTiling(latentHeight: number, latentWidth: number, tiling: VaeTiling): boolean {
  return latentHeight > tiling.tileLatent || latentWidth > tiling.tileLatent;
}

/** The tile origins along one side: range(0, side, stride). */
export function tileStarts(side: number, tileLatent: number): number[] {
  const stride = Math.floor(tileLatent * (1 - TILE_OVERLAP_FACTOR));
  if (!(stride >= 1)) throw new RangeError(`VAE tile of ${tileLatent} latents is too small to overlap (stride ${stride})`);
  const starts: number[] = [];
  for (let i = 0; i < side; i += stride) starts.push(i);
  return starts;
}

interface Tile {
  readonly data: Float32Array;
  readonly h: number;
  readonly w: number;
}

/** 1×C×h×w latents → the sub-block rows y0…y0+th, columns x0…x0+tw. */
function cut(latents: Float32Array, c: number, h: number, w: number, y0: number, x0: number, th: number, tw: number): Float32Array {
  const out = new Float32Array(c * th * tw);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < th; y++) {
      const from = (ch * h + y0 + y) * w + x0;
      out.set(latents.subarray(from, from + tw), (ch * th + y) * tw);
    }
  }
  return out;
}

/** diffusers' blend_v: b's first rows faded in from a's last ones, in place. */
function blendV(a: Tile, b: Tile, extent: number): void {
  const e = Math.min(a.h, b.h, extent);
  for (let y = 0; y < e; y++) {
    const wb = Math.fround(y / e);
    const wa = Math.fround(1 - y / e);
    for (let ch = 0; ch < 3; ch++) {
      const rowA = (ch * a.h + a.h - e + y) * a.w;
      const rowB = (ch * b.h + y) * b.w;
      const n = Math.min(a.w, b.w);
      for (let x = 0; x < n; x++) b.data[rowB + x] = Math.fround(a.data[rowA + x] * wa) + Math.fround(b.data[rowB + x] * wb);
    }
  }
}

/** diffusers' blend_h: b's first columns faded in from a's last ones, in place. */
function blendH(a: Tile, b: Tile, extent: number): void {
  const e = Math.min(a.w, b.w, extent);
  for (let x = 0; x < e; x++) {
    const wb = Math.fround(x / e);
    const wa = Math.fround(1 - x / e);
    const n = Math.min(a.h, b.h);
    for (let ch = 0; ch < 3; ch++) {
      for (let y = 0; y < n; y++) {
        const ia = (ch * a.h + y) * a.w + a.w - e + x;
        const ib = (ch * b.h + y) * b.w + x;
        b.data[ib] = Math.fround(a.data[ia] * wa) + Math.fround(b.data[ib] * wb);
      }
    }
  }
}

/**
 * One image's latents 1×C×h×w → 1×3×(h·f)×(w·f), decoded tile by tile with `decodeTile` and blended as diffusers'
 * tiled_decode; `f` (the VAE's scale factor) is read from the first decoded tile.
 */
export async function decodeTiled(latents: Float32Array, dims: readonly number[], tiling: VaeTiling,
  decodeTile: TileDecoder, onTile?: (done: number, total: number) => void): Promise<Float32Array> {
  const [batch, c, h, w] = dims;
  if (batch !== 1 || dims.length !== 4 || latents.length !== c * h * w) {
    throw new RangeError(`decodeTiled: expected one image's latents 1×C×h×w, got [${dims.join(', ')}] with ${latents.length} values`);
  }
  const { tileLatent, tileSample } = tiling;
  const ys = tileStarts(h, tileLatent);
  const xs = tileStarts(w, tileLatent);
  const rows: Tile[][] = [];
  let factor = 0;
  let done = 0;
  for (const y0 of ys) {
    const row: Tile[] = [];
    for (const x0 of xs) {
      const th = Math.min(tileLatent, h - y0);
      const tw = Math.min(tileLatent, w - x0);
      const data = await decodeTile(cut(latents, c, h, w, y0, x0, th, tw), [1, c, th, tw]);
      const f = Math.round(Math.sqrt(data.length / (3 * th * tw)));
      if (f < 1 || data.length !== 3 * th * f * tw * f || (factor !== 0 && f !== factor)) {
        throw new RangeError(`decodeTiled: a ${tw}×${th} latent tile decoded to ${data.length} values, not 3 × (${tw}·f) × (${th}·f)`);
      }
      factor = f;
      row.push({ data, h: th * f, w: tw * f });
      onTile?.(++done, ys.length * xs.length);
    }
    rows.push(row);
  }
  const extent = Math.floor(tileSample * TILE_OVERLAP_FACTOR);
  const limit = tileSample - extent;
  const outH = h * factor;
  const outW = w * factor;
  const out = new Float32Array(3 * outH * outW);
  let top = 0;
  for (let i = 0; i < rows.length; i++) {
    let left = 0;
    let rowHeight = 0;
    for (let j = 0; j < rows[i].length; j++) {
      const tile = rows[i][j];
      if (i > 0) blendV(rows[i - 1][j], tile, extent);
      if (j > 0) blendH(rows[i][j - 1], tile, extent);
      const keepH = Math.min(limit, tile.h);
      const keepW = Math.min(limit, tile.w);
      for (let ch = 0; ch < 3; ch++) {
        for (let y = 0; y < keepH && top + y < outH; y++) {
          const from = (ch * tile.h + y) * tile.w;
          const width = Math.min(keepW, outW - left);
          out.set(tile.data.subarray(from, from + width), (ch * outH + top + y) * outW + left);
        }
      }
      left += keepW;
      rowHeight = keepH;
    }
    top += rowHeight;
  }
  if (top !== outH) throw new RangeError(`decodeTiled: tiles covered ${top} of ${outH} rows`);
  return out;
}

/** The tile sizes of a VAE whose config.json declares `sample_size` and `block_out_channels` (diffusers' __init__). */
export function tilingOf(sampleSize: number, blocks: number): VaeTiling {
  return { tileSample: sampleSize, tileLatent: Math.floor(sampleSize / 2 ** (blocks - 1)) };
}
