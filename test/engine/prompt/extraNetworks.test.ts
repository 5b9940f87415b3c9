import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractExtraNetworks, handleExtraNetworks } from '../../../src/engine/prompt';

test('extra-network tags are cut out of the prompt and grouped by kind, as A1111\'s parse_prompt does', () => {
  const { prompt, networks } = extractExtraNetworks('a cat <lora:film grain:0.8>, <hypernet:x:1> <lora:b:te=0.5:unet=1> <not a tag> <lora:>');
  assert.deepStrictEqual({ prompt, networks: Object.fromEntries(networks) }, {
    prompt: 'a cat ,   <not a tag> <lora:>',
    networks: {
      lora: [
        { items: ['film grain', '0.8'], positional: ['film grain', '0.8'], named: {} },
        { items: ['b', 'te=0.5', 'unet=1'], positional: ['b'], named: { te: '0.5', unet: '1' } },
      ],
      hypernet: [{ items: ['x', '1'], positional: ['x', '1'], named: {} }],
    },
  });
});

test('each kind goes to its handler; kinds without one are named in a warning', () => {
  const seen: string[][] = [];
  const { networks } = extractExtraNetworks('<lora:a:1> <hypernet:h:0.5> <lyco:l> <lora:b>');
  const warnings = handleExtraNetworks(networks, { lora: (params) => { seen.push(params.map((p) => p.items[0])); return []; } });
  assert.deepStrictEqual({ seen, warnings }, {
    seen: [['a', 'b']],
    warnings: ['extra networks are not supported here, ignored: <hypernet:h:0.5> <lyco:l>'],
  });
});
