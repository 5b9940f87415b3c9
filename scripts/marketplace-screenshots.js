#!/usr/bin/env node
// The screenshots of MARKETPLACE.md (the package's page) are the e2e suite's own, of the real panel in code-server:
// this copies them from a run of `npm run test:e2e` into media/marketplace/, which the package ships.
// Usage: node scripts/marketplace-screenshots.js [e2e-output-dir]   (default: the newest test-output/e2e/*/ that has
// all of them). Look at them before committing.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const DEST = path.join(root, 'media', 'marketplace');
/** media/marketplace/<name> ← the e2e suite's screenshot (test/extension/scenarios.ts). */
const SHOTS = {
  'panel-during.png': 'panel-2-during.png',
  'panel-after.png': 'panel-3-after.png',
  'alt-text.png': 'alt-text-rewritten.png',
};

function newestRun() {
  const base = path.join(root, 'test-output', 'e2e');
  const runs = (fs.existsSync(base) ? fs.readdirSync(base) : [])
    .map((d) => path.join(base, d))
    .filter((d) => Object.values(SHOTS).every((f) => fs.existsSync(path.join(d, f))))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  if (runs.length === 0) throw new Error(`expected a run of npm run test:e2e in ${path.relative(root, base)}/ with ${Object.values(SHOTS).join(', ')}`);
  return runs[0];
}

function main() {
  const from = process.argv[2] ? path.resolve(process.argv[2]) : newestRun();
  fs.mkdirSync(DEST, { recursive: true });
  for (const [name, shot] of Object.entries(SHOTS)) {
    const src = path.join(from, shot);
    if (!fs.existsSync(src)) throw new Error(`expected ${src}`);
    fs.copyFileSync(src, path.join(DEST, name));
    console.log(`${path.relative(root, path.join(DEST, name))} ← ${path.relative(root, src)}`);
  }
}

try {
  main();
} catch (error) {
  console.error(String(error && error.message ? error.message : error));
  process.exit(1);
}
