/**
 * Judges a labelled grid of pictures (models/train/ae_recon.py's output, or judge-check.png/json) with the soft
 * judge of samplerQuality.test.ts, per size × shape (not part of npm test):
 *
 *   node --import tsx test/pipeline/judgeGrid.ts BASE        # reads BASE.png and BASE.json
 *
 * prints, for each size × shape, how many tiles the judge reads as their own shape and their mean soft IoU with it.
 */
import { readFileSync } from 'node:fs';
import { decode } from 'fast-png';
import { gridTile, judgeShapesSoft, type ShapeName } from './shapeJudge';

interface Labels { tile: number; columns: number; tiles: Array<{ shape: ShapeName; size: string }> }

function main(): void {
  const base = process.argv[2];
  if (!base) throw new Error('usage: judgeGrid.ts BASE (BASE.png and BASE.json, as models/train/ae_recon.py writes them)');
  const labels = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as Labels;
  const grid = decode(readFileSync(`${base}.png`));
  const rows = Math.ceil(labels.tiles.length / labels.columns);
  if (grid.width !== labels.columns * labels.tile || grid.height < rows * labels.tile) {
    throw new Error(`${base}.png is ${grid.width}×${grid.height}: not ${labels.tiles.length} tiles of ${labels.tile}² in ${labels.columns} columns`);
  }
  const byClass = new Map<string, { n: number; right: number; iou: number }>();
  labels.tiles.forEach((label, k) => {
    const j = judgeShapesSoft(gridTile(grid, labels.tile, labels.columns, k), labels.tile, labels.tile);
    const key = `${label.size} ${label.shape}`;
    const c = byClass.get(key) ?? { n: 0, right: 0, iou: 0 };
    byClass.set(key, { n: c.n + 1, right: c.right + (j.shape === label.shape ? 1 : 0), iou: c.iou + j.ious[label.shape] });
  });
  for (const [key, c] of byClass) console.log(`${key}: ${c.right}/${c.n} right, mean soft IoU ${(c.iou / c.n).toFixed(3)}`);
}

main();
