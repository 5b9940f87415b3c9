/**
 * `npm run bench:gallery`: the gallery with 5,000 images (a benchmark, not a test). Targets (issue 18): the first
 * screen within 1 s, filtering within 100 ms.
 *  - first screen, cold: the folder listed and every file's head read (no index cache) + the JSON the host posts +
 *    the thumbnails of the first screen made (no thumbnail cache; the newest images are 512×512 like real ones).
 *  - first screen, warm: the same with the index and thumbnail caches of an earlier window.
 *  - filtering: the webview's filter over all 5,000 (prompt words, a model, a sampler), worst of several queries.
 * The files are fresh, so they are in the OS page cache: a cold disk adds its reads on top. Options (environment):
 * BENCH_GALLERY_IMAGES (5000), BENCH_GALLERY_SCREEN (thumbnails on the first screen, 24), BENCH_GALLERY_DIR (reuse
 * a folder of images made by an earlier run).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodePng } from '../src/engine/image';
import { GalleryIndex } from '../src/gallery/galleryIndex';
import { ThumbnailCache } from '../src/gallery/thumbnails';
import { filterItems, indexPrompts } from '../webview/gallery/filter';

const COUNT = Number(process.env.BENCH_GALLERY_IMAGES ?? 5000);
const SCREEN = Number(process.env.BENCH_GALLERY_SCREEN ?? 24);
const WORDS = 'red blue green yellow fox owl cat lighthouse dusk dawn forest river mountain city street portrait watercolor oil ink sketch neon misty snowy sunny calm stormy old new tiny huge'.split(' ');
const MODELS = ['stable-diffusion-v1-5', 'sd-turbo', 'sdxl-base', 'shapes-embedded'];
const SAMPLERS = ['Euler a', 'DPM++ 2M', 'DDIM', 'Euler', 'UniPC'];

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
}

function makeImages(dir: string): void {
  const rand = lcg(42);
  const now = Date.now();
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < COUNT; i++) {
    const size = i < SCREEN * 3 ? 512 : 64; // the newest (first screens) at a real size, the rest small to spare the disk
    const rgb = new Uint8Array(size * size * 3);
    for (let p = 0; p < rgb.length; p += 3) {
      const x = (p / 3) % size;
      const y = Math.floor(p / 3 / size);
      rgb[p] = (x * 255) / size; rgb[p + 1] = (y * 255) / size; rgb[p + 2] = (i * 37) & 255;
    }
    const prompt = Array.from({ length: 4 + Math.floor(rand() * 6) }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ');
    const model = MODELS[i % MODELS.length];
    const sampler = SAMPLERS[Math.floor(rand() * SAMPLERS.length)];
    const infotext = `${prompt}\nNegative prompt: blurry\nSteps: 20, Sampler: ${sampler}, CFG scale: 7.5, Seed: ${i}, Size: ${size}x${size}, Model: ${model}, Version: inline-diffusion 0.1.0`;
    const file = path.join(dir, `img-${String(i).padStart(5, '0')}.png`);
    fs.writeFileSync(file, encodePng(rgb, size, size, { parameters: infotext }));
    const t = new Date(now - i * 60_000);
    fs.utimesSync(file, t, t);
  }
}

function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const value = fn();
  return [value, performance.now() - t0];
}

interface Screen { pageMs: number; postMs: number; thumbsMs: number; firstScreenMs: number; allMs: number; read: number; items: number }

/** Time to the first page of items (posted before the rest are read), its JSON, its thumbnails; and to the whole list. */
function firstScreen(images: string, storage: string): Screen {
  const index = new GalleryIndex(path.join(storage, 'index.json'));
  const thumbs = new ThumbnailCache(path.join(storage, 'thumbs'));
  const t0 = performance.now();
  let pageMs = 0;
  let postMs = 0;
  let thumbsMs = 0;
  const result = index.scan([images], (first) => {
    pageMs = performance.now() - t0;
    postMs = time(() => JSON.parse(JSON.stringify({ type: 'items', items: first })))[1]; // what postMessage serializes and the webview parses
    thumbsMs = time(() => { for (const item of first.slice(0, SCREEN)) thumbs.thumbnail(item.path); })[1];
  });
  const allMs = performance.now() - t0 - postMs - thumbsMs;
  return { pageMs, postMs, thumbsMs, firstScreenMs: pageMs + postMs + thumbsMs, allMs, read: result.read, items: result.items.length };
}

function main(): void {
  const keep = process.env.BENCH_GALLERY_DIR;
  const root = keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'bench-gallery-'));
  const images = path.join(root, 'images');
  if (!fs.existsSync(images) || fs.readdirSync(images).length < COUNT) {
    const [, ms] = time(() => makeImages(images));
    console.log(`made ${COUNT} PNGs in ${(ms / 1000).toFixed(1)} s (${images})`);
  }
  const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-gallery-storage-'));
  const fmt = (r: Screen): string =>
    `${r.firstScreenMs.toFixed(0)} ms (listing + newest page ${r.pageMs.toFixed(0)} ms, its JSON ${r.postMs.toFixed(0)} ms, ${SCREEN} thumbnails ${r.thumbsMs.toFixed(0)} ms); all ${r.items} listed in ${r.allMs.toFixed(0)} ms reading ${r.read} heads`;
  const cold = firstScreen(images, storage);
  console.log(`first screen, cold caches: ${fmt(cold)}   target ≤ 1000 ms`);
  const warm = firstScreen(images, storage);
  console.log(`first screen, warm caches: ${fmt(warm)}   target ≤ 1000 ms`);

  const items = new GalleryIndex(path.join(storage, 'index.json')).scan([images]).items;
  const [prompts, indexMs] = time(() => indexPrompts(items));
  const queries = [
    { text: 'red', model: '', sampler: '' }, { text: 'fox lighthouse', model: '', sampler: '' },
    { text: '', model: 'sd-turbo', sampler: '' }, { text: 'misty', model: 'sdxl-base', sampler: 'DDIM' },
    { text: 'no such word at all', model: '', sampler: '' }, { text: '', model: '', sampler: '' },
  ];
  const times = queries.map((q) => {
    const runs = Array.from({ length: 5 }, () => time(() => filterItems(items, prompts, q)));
    return { q, shown: runs[0][0].length, ms: Math.max(...runs.map(([, ms]) => ms)) };
  });
  console.log(`filter index (once per list): ${indexMs.toFixed(1)} ms`);
  for (const t of times) console.log(`filter ${JSON.stringify(t.q)}: ${t.shown} shown, worst of 5 ${t.ms.toFixed(2)} ms   target ≤ 100 ms`);
  fs.rmSync(storage, { recursive: true, force: true });
  if (!keep) fs.rmSync(root, { recursive: true, force: true });
}

main();
