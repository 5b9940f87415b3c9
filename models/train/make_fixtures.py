"""Fixtures for test/pipeline/modelQuality.test.ts, written beside this script:
judge-check.png + judge-check.json: 40 clean renders (8 x 5 grid of 64x64) and what each shows, to check the
TypeScript pixel judge against the training renderer; caption-ids.json: captions and the ids this Python
tokenizer gives them (BOS ... EOS, no padding), to check the engine's TypeScript tokenizer.

  /usr/bin/python3 models/train/make_fixtures.py models/shapes-64/tokenizer
"""
import json
import os
import random
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import data  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(99)
specs = [data.random_spec(rng) for _ in range(40)]
tiles = [data.render(s) for s in specs]
grid = np.concatenate([np.concatenate(tiles[r * 8:(r + 1) * 8], 1) for r in range(5)], 0)
Image.fromarray(grid).save(os.path.join(here, 'judge-check.png'), optimize=True)
labels = [{k: s[k] for k in ('shape', 'colour', 'bg', 'pos', 'size')} for s in specs]
with open(os.path.join(here, 'judge-check.json'), 'w') as f:
    json.dump({'tile': 64, 'columns': 8, 'tiles': labels}, f, indent=0)
tok = bpe.ClipTokenizer.from_dir(sys.argv[1])
eos = tok.vocab[bpe.EOS]
caps = sorted(set(data.all_caption_words()))
rng.shuffle(caps)
caps = caps[:300] + ['', 'A Red  Circle!', 'a purple star, on a white background', 'unknown words: zebra 42']
out = []
for c in caps:
    ids = tok.encode(c)
    n = ids.index(eos) + 1
    out.append({'text': c, 'ids': ids[:n]})
with open(os.path.join(here, 'caption-ids.json'), 'w') as f:
    json.dump(out, f, separators=(',', ':'))
print(len(out), 'captions')
