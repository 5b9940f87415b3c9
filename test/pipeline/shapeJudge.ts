/**
 * A pure pixel judge for the embedded shapes model (models/shapes-64, trained by models/train/): given RGB bytes it
 * names the background colour (from the border pixels), the shape colour (from the pixels far from the background),
 * the shape's position (centre or a quadrant, from the mask's centroid) and a best guess at the shape itself
 * (the circle / square / triangle / star template, scaled to the mask's area and centred on its centroid, that
 * overlaps the mask best). The geometry of the templates follows models/train/data.py.
 */

export const COLOURS = {
  red: [220, 40, 40], green: [40, 170, 60], blue: [40, 80, 220], yellow: [240, 210, 40],
  orange: [240, 130, 30], purple: [140, 60, 190], white: [240, 240, 240], black: [20, 20, 20],
} as const satisfies Record<string, readonly [number, number, number]>;

export type ColourName = keyof typeof COLOURS;
export type ShapeName = 'circle' | 'square' | 'triangle' | 'star';
export type PositionName = 'centre' | 'top left' | 'top right' | 'bottom left' | 'bottom right';

export const COLOUR_NAMES = Object.keys(COLOURS) as ColourName[];
export const SHAPE_NAMES: readonly ShapeName[] = ['circle', 'square', 'triangle', 'star'];
export const POSITION_NAMES: readonly PositionName[] = ['centre', 'top left', 'top right', 'bottom left', 'bottom right'];

export interface ShapeJudgement {
  readonly background: ColourName;
  /** RGB distance of the border's median colour from the named background colour. */
  readonly backgroundDistance: number;
  /** null when no pixel stands out from the background. */
  readonly shapeColour: ColourName | null;
  readonly position: PositionName | null;
  readonly shape: ShapeName | null;
  /** Intersection over union of the mask with the best template (0…1). */
  readonly shapeIou: number;
  /** Fraction of the picture the shape covers. */
  readonly shapeFraction: number;
}

/** A pixel belongs to the shape when its RGB distance from the background colour is above this. */
const MASK_DISTANCE = 80;
/** The centroid is "centre" when it lies within this fraction of the side from the middle on both axes. */
const CENTRE_BOX = 0.12;
const SUPERSAMPLE = 4;

function nearestColour(r: number, g: number, b: number): ColourName {
  let best: ColourName = 'black';
  let bestD = Infinity;
  for (const name of COLOUR_NAMES) {
    const [cr, cg, cb] = COLOURS[name];
    const d = (r - cr) ** 2 + (g - cg) ** 2 + (b - cb) ** 2;
    if (d < bestD) {
      bestD = d;
      best = name;
    }
  }
  return best;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Median colour of the given pixel indices, per channel. */
function medianColour(rgb: Uint8Array, pixels: number[]): [number, number, number] {
  return [0, 1, 2].map((c) => median(pixels.map((p) => rgb[3 * p + c]))) as [number, number, number];
}

type Point = readonly [number, number];

function insidePolygon(x: number, y: number, pts: readonly Point[]): boolean {
  let inside = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i];
    const [xj, yj] = pts[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** The shape's outline as data.py draws it around (cx, cy) with half-extent r; null for the circle. */
function outline(shape: ShapeName, cx: number, cy: number, r: number): Point[] | null {
  switch (shape) {
    case 'circle':
      return null;
    case 'square': {
      const s = r * 0.9;
      return [[cx - s, cy - s], [cx + s, cy - s], [cx + s, cy + s], [cx - s, cy + s]];
    }
    case 'triangle':
      return [0, 1, 2].map((k): Point => {
        const a = -Math.PI / 2 + (k * 2 * Math.PI) / 3;
        return [cx + r * Math.cos(a), cy + r * Math.sin(a) + r * 0.12];
      });
    case 'star':
      return Array.from({ length: 10 }, (_, k): Point => {
        const rr = k % 2 === 0 ? r * 1.1 : r * 1.1 * 0.45;
        const a = -Math.PI / 2 + (k * Math.PI) / 5;
        return [cx + rr * Math.cos(a), cy + rr * Math.sin(a)];
      });
  }
}

/** Template mask (width×height, 1 = inside), pixels covered by more than half of their supersamples. */
export function renderTemplate(shape: ShapeName, cx: number, cy: number, r: number, width: number, height: number): Uint8Array {
  return Uint8Array.from(renderCoverage(shape, cx, cy, r, width, height), (c) => (c > 0.5 ? 1 : 0));
}

/** Template area at r = 10 on a 64×64 grid, for scaling a template to a mask's area. */
const AREA_AT_10 = new Map<ShapeName, number>(
  SHAPE_NAMES.map((s) => [s, renderTemplate(s, 32, 32, 10, 64, 64).reduce((a, v) => a + v, 0)]),
);

/** Judges one picture: rgb is width×height×3 bytes, row-major. */
export function judgeShapes(rgb: Uint8Array, width: number, height: number): ShapeJudgement {
  if (rgb.length !== width * height * 3) {
    throw new Error(`judgeShapes: expected ${width}×${height}×3 = ${width * height * 3} bytes, got ${rgb.length}`);
  }
  const border: number[] = [];
  for (let x = 0; x < width; x++) border.push(x, (height - 1) * width + x);
  for (let y = 1; y < height - 1; y++) border.push(y * width, y * width + width - 1);
  const borderColour = medianColour(rgb, border);
  const background = nearestColour(...borderColour);
  const [br, bg, bb] = COLOURS[background];
  const backgroundDistance = Math.hypot(borderColour[0] - br, borderColour[1] - bg, borderColour[2] - bb);

  const mask = new Uint8Array(width * height);
  const shapePixels: number[] = [];
  let sx = 0;
  let sy = 0;
  for (let p = 0; p < width * height; p++) {
    const d = Math.sqrt((rgb[3 * p] - br) ** 2 + (rgb[3 * p + 1] - bg) ** 2 + (rgb[3 * p + 2] - bb) ** 2);
    if (d > MASK_DISTANCE) {
      mask[p] = 1;
      shapePixels.push(p);
      sx += (p % width) + 0.5;
      sy += Math.floor(p / width) + 0.5;
    }
  }
  const area = shapePixels.length;
  if (area < 4) {
    return { background, backgroundDistance, shapeColour: null, position: null, shape: null, shapeIou: 0, shapeFraction: area / (width * height) };
  }
  const shapeColour = nearestColour(...medianColour(rgb, shapePixels));
  const cx = sx / area;
  const cy = sy / area;
  const dx = cx / width - 0.5;
  const dy = cy / height - 0.5;
  const position: PositionName = Math.max(Math.abs(dx), Math.abs(dy)) < CENTRE_BOX
    ? 'centre'
    : `${dy < 0 ? 'top' : 'bottom'} ${dx < 0 ? 'left' : 'right'}`;

  let shape: ShapeName | null = null;
  let shapeIou = -1;
  for (const s of SHAPE_NAMES) {
    const r = 10 * Math.sqrt(area / (AREA_AT_10.get(s) ?? 1));
    // A triangle's centroid sits 0.12 r below the centre it is drawn around.
    const t = renderTemplate(s, cx, s === 'triangle' ? cy - 0.12 * r : cy, r, width, height);
    let inter = 0;
    let union = 0;
    for (let p = 0; p < t.length; p++) {
      inter += t[p] & mask[p];
      union += t[p] | mask[p];
    }
    const iou = union === 0 ? 0 : inter / union;
    if (iou > shapeIou) {
      shapeIou = iou;
      shape = s;
    }
  }
  return { background, backgroundDistance, shapeColour, position, shape, shapeIou, shapeFraction: area / (width * height) };
}

/** The coverage (0…1) of each pixel by a template: the share of its supersamples inside the outline. */
export function renderCoverage(shape: ShapeName, cx: number, cy: number, r: number, width: number, height: number): Float32Array {
  const cover = new Float32Array(width * height);
  const pts = outline(shape, cx, cy, r);
  const x0 = Math.max(0, Math.floor(cx - 1.2 * r - 1));
  const x1 = Math.min(width - 1, Math.ceil(cx + 1.2 * r + 1));
  const y0 = Math.max(0, Math.floor(cy - 1.2 * r - 1));
  const y1 = Math.min(height - 1, Math.ceil(cy + 1.2 * r + 1));
  const n = SUPERSAMPLE;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let hits = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const px = x + (sx + 0.5) / n;
          const py = y + (sy + 0.5) / n;
          if (pts === null ? (px - cx) ** 2 + (py - cy) ** 2 <= r * r : insidePolygon(px, py, pts)) hits++;
        }
      }
      cover[y * width + x] = hits / (n * n);
    }
  }
  return cover;
}

/** Template coverage at r = 10 on a 64×64 grid, for scaling a template to a soft mask's area. */
const COVERAGE_AT_10 = new Map<ShapeName, number>(
  SHAPE_NAMES.map((s) => [s, renderCoverage(s, 32, 32, 10, 64, 64).reduce((a, v) => a + v, 0)]),
);

export interface SoftShapeJudgement {
  readonly background: ColourName;
  /** null when no pixel stands out from the background. */
  readonly shapeColour: ColourName | null;
  readonly position: PositionName | null;
  readonly shape: ShapeName | null;
  /** Soft intersection over union (Σ min / Σ max) of the soft mask with the best template's coverage (0…1). */
  readonly iou: number;
  /** The soft IoU of every template, by shape. */
  readonly ious: Readonly<Record<ShapeName, number>>;
}

/**
 * The judge of issue 19: colours as judgeShapes reads them; each pixel's membership of the shape is how far its
 * colour lies from the background's towards the shape's (0…1, so anti-aliased edges count in part and a blurred blob
 * loses IoU); each template (the training geometry of models/train/data.py) is scaled to the soft mask's area and
 * centred on its soft centroid, and the shape is the one whose coverage overlaps the mask best (soft IoU).
 */
export function judgeShapesSoft(rgb: Uint8Array, width: number, height: number): SoftShapeJudgement {
  const hard = judgeShapes(rgb, width, height);
  const none = { circle: 0, square: 0, triangle: 0, star: 0 };
  if (hard.shapeColour === null || hard.shapeColour === hard.background) {
    return { background: hard.background, shapeColour: hard.shapeColour, position: hard.position, shape: null, iou: 0, ious: none };
  }
  const bgc = COLOURS[hard.background];
  const fg = COLOURS[hard.shapeColour];
  const dir = [fg[0] - bgc[0], fg[1] - bgc[1], fg[2] - bgc[2]];
  const len2 = dir[0] ** 2 + dir[1] ** 2 + dir[2] ** 2;
  const soft = new Float32Array(width * height);
  let area = 0;
  let sx = 0;
  let sy = 0;
  for (let p = 0; p < soft.length; p++) {
    const t = ((rgb[3 * p] - bgc[0]) * dir[0] + (rgb[3 * p + 1] - bgc[1]) * dir[1] + (rgb[3 * p + 2] - bgc[2]) * dir[2]) / len2;
    const m = Math.min(1, Math.max(0, t));
    soft[p] = m;
    area += m;
    sx += m * ((p % width) + 0.5);
    sy += m * (Math.floor(p / width) + 0.5);
  }
  if (area < 4) {
    return { background: hard.background, shapeColour: hard.shapeColour, position: hard.position, shape: null, iou: 0, ious: none };
  }
  const cx = sx / area;
  const cy = sy / area;
  const dx = cx / width - 0.5;
  const dy = cy / height - 0.5;
  const position: PositionName = Math.max(Math.abs(dx), Math.abs(dy)) < CENTRE_BOX
    ? 'centre'
    : `${dy < 0 ? 'top' : 'bottom'} ${dx < 0 ? 'left' : 'right'}`;
  const ious = { ...none };
  let shape: ShapeName | null = null;
  let iou = -1;
  for (const s of SHAPE_NAMES) {
    const r = 10 * Math.sqrt(area / (COVERAGE_AT_10.get(s) ?? 1));
    const t = renderCoverage(s, cx, s === 'triangle' ? cy - 0.12 * r : cy, r, width, height);
    let inter = 0;
    let union = 0;
    for (let p = 0; p < t.length; p++) {
      inter += Math.min(t[p], soft[p]);
      union += Math.max(t[p], soft[p]);
    }
    ious[s] = union === 0 ? 0 : inter / union;
    if (ious[s] > iou) {
      iou = ious[s];
      shape = s;
    }
  }
  return { background: hard.background, shapeColour: hard.shapeColour, position, shape, iou, ious };
}

/** Tile k (row-major, `columns` a row) of a grid picture of t×t tiles, as packed RGB (the judge-check grid). */
export function gridTile(grid: { data: ArrayLike<number>; width: number; channels: number }, t: number, columns: number, k: number): Uint8Array {
  const ox = (k % columns) * t;
  const oy = Math.floor(k / columns) * t;
  const rgb = new Uint8Array(t * t * 3);
  for (let y = 0; y < t; y++) {
    for (let x = 0; x < t; x++) {
      for (let c = 0; c < 3; c++) rgb[(y * t + x) * 3 + c] = grid.data[((oy + y) * grid.width + ox + x) * grid.channels + c];
    }
  }
  return rgb;
}
