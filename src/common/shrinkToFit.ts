/**
 * A picture made small for display (the gallery's thumbnails, the panel's input image): box-filtered, linear in the
 * input's pixels however large it is.
 */

export interface Rgb {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
}

/** Shrinks an RGB image to fit size×size (never enlarges), averaging each output pixel's box of input pixels. */
export function shrinkToFit(image: Rgb, size: number): Rgb {
  const scale = Math.min(1, size / Math.max(image.width, image.height));
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  if (width === image.width && height === image.height) return image;
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const y0 = Math.floor((y * image.height) / height);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * image.height) / height));
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor((x * image.width) / width);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * image.width) / width));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let yy = y0; yy < y1; yy++) {
        for (let xx = x0; xx < x1; xx++) {
          const i = (yy * image.width + xx) * 3;
          r += image.rgb[i];
          g += image.rgb[i + 1];
          b += image.rgb[i + 2];
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      const o = (y * width + x) * 3;
      out[o] = Math.round(r / n);
      out[o + 1] = Math.round(g / n);
      out[o + 2] = Math.round(b / n);
    }
  }
  return { width, height, rgb: out };
}

