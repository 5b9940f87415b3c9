/**
 * The mask editor's pixels: one byte per pixel of the input image (0 keep, 255 repaint), painted with a round brush
 * along pointer strokes, erased, cleared and inverted. Pure (no DOM), so tests run it without a browser.
 */

export class MaskPaint {
  readonly data: Uint8Array;

  constructor(readonly width: number, readonly height: number) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new RangeError(`mask size must be positive whole numbers, got ${width}×${height}`);
    }
    this.data = new Uint8Array(width * height);
  }

  /**
   * A stroke segment from (x0, y0) to (x1, y1) in image pixels with a round brush of `diameter` pixels: every pixel
   * whose centre lies within diameter/2 of the segment is set (paint) or cleared (erase).
   */
  stroke(x0: number, y0: number, x1: number, y1: number, diameter: number, erase = false): void {
    const r = Math.max(0.5, diameter / 2);
    const value = erase ? 0 : 255;
    const minX = Math.max(0, Math.floor(Math.min(x0, x1) - r));
    const maxX = Math.min(this.width - 1, Math.ceil(Math.max(x0, x1) + r));
    const minY = Math.max(0, Math.floor(Math.min(y0, y1) - r));
    const maxY = Math.min(this.height - 1, Math.ceil(Math.max(y0, y1) + r));
    const dx = x1 - x0;
    const dy = y1 - y0;
    const len2 = dx * dx + dy * dy;
    for (let y = minY; y <= maxY; y++) {
      for (let x = minX; x <= maxX; x++) {
        const px = x + 0.5;
        const py = y + 0.5;
        const t = len2 === 0 ? 0 : Math.min(1, Math.max(0, ((px - x0) * dx + (py - y0) * dy) / len2));
        const ex = px - (x0 + t * dx);
        const ey = py - (y0 + t * dy);
        if (ex * ex + ey * ey <= r * r) this.data[y * this.width + x] = value;
      }
    }
  }

  clear(): void {
    this.data.fill(0);
  }

  invert(): void {
    for (let i = 0; i < this.data.length; i++) this.data[i] = this.data[i] === 0 ? 255 : 0;
  }

  /** Whether anything is painted. */
  painted(): boolean {
    return this.data.some((v) => v !== 0);
  }
}

/** A point on the displayed canvas (CSS pixels from its top-left, its displayed size) → image pixels. */
export function toImagePoint(offsetX: number, offsetY: number, shownWidth: number, shownHeight: number, width: number, height: number): { x: number; y: number } {
  return { x: (offsetX / Math.max(1, shownWidth)) * width, y: (offsetY / Math.max(1, shownHeight)) * height };
}
