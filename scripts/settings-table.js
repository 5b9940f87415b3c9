#!/usr/bin/env node
// The settings table of MARKETPLACE.md (the package's README), generated from package.json's
// contributes.configuration: one row per setting in its `order`, with its default, range or values, and description.
// Usage: node scripts/settings-table.js          writes the table between the markers in MARKETPLACE.md
//        node scripts/settings-table.js --check  exits 1 when the committed table is out of step with package.json
// test/scripts/marketplacePage.test.ts runs the check in npm test.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const TARGET = path.join(root, 'MARKETPLACE.md');
const BEGIN = '<!-- settings-table: generated from package.json by scripts/settings-table.js; edit package.json, then run it -->';
const END = '<!-- /settings-table -->';

/** Text fit for one table cell: no line breaks, pipes escaped. */
function cell(text) {
  return String(text).replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

function describe(p) {
  let text = p.markdownDescription ?? p.description ?? '';
  if (p.minimum !== undefined || p.maximum !== undefined) {
    text += ` Range ${p.minimum ?? '…'}–${p.maximum ?? '…'}${p.multipleOf ? `, a multiple of ${p.multipleOf}` : ''}.`;
  }
  const parts = [text];
  if (Array.isArray(p.enum)) {
    const d = p.enumDescriptions ?? [];
    parts.push(p.enum.map((v, i) => `\`${v}\`${d[i] ? `: ${d[i]}` : ''}`).join('<br>'));
  }
  return parts.filter(Boolean).map(cell).join('<br>');
}

/** The markdown table for a package.json manifest. */
function settingsTable(manifest) {
  const config = manifest.contributes && manifest.contributes.configuration;
  const props = Object.entries((config && config.properties) || {})
    .sort(([, a], [, b]) => (a.order ?? Infinity) - (b.order ?? Infinity));
  if (props.length === 0) throw new Error('expected contributes.configuration.properties in package.json');
  const rows = props.map(([key, p]) => `| \`${key}\` | \`${cell(JSON.stringify(p.default))}\` | ${describe(p)} |`);
  return ['| Setting | Default | What it does |', '|---|---|---|', ...rows].join('\n');
}

/** text with the part between the markers replaced by the table; throws when the markers are missing. */
function withTable(text, manifest) {
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`expected the markers ${BEGIN} … ${END} in ${path.relative(root, TARGET)}`);
  return `${text.slice(0, begin + BEGIN.length)}\n${settingsTable(manifest)}\n${text.slice(end)}`;
}

function main() {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const text = fs.readFileSync(TARGET, 'utf8');
  const next = withTable(text, manifest);
  if (process.argv.includes('--check')) {
    if (next !== text) {
      console.error(`${path.relative(root, TARGET)}: the settings table is out of step with package.json (run node scripts/settings-table.js)`);
      process.exit(1);
    }
    return;
  }
  if (next !== text) fs.writeFileSync(TARGET, next);
  console.log(`${path.relative(root, TARGET)}: settings table ${next === text ? 'already current' : 'written'}`);
}

module.exports = { TARGET, BEGIN, END, settingsTable, withTable };

if (require.main === module) {
  try {
    main();
  } catch (error) {
    console.error(String(error && error.message ? error.message : error));
    process.exit(1);
  }
}
