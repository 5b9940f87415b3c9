"""The autoencoder alone: training renders through the encoder and the decoder, as a labelled grid for the soft
judge of test/pipeline (README.md's table of small stars from clean latents).

  /work/venv/bin/python models/train/ae_recon.py --ae W/ae.pt --out /tmp/recon [--n 40]      # a run's checkpoint
  /usr/bin/python3 models/train/ae_recon.py --model models/shapes-64 --out /tmp/recon      # a model's ONNX files
  node --import tsx test/pipeline/judgeGrid.ts /tmp/recon

writes OUT.png (16 tiles a row, 64x64 each) and OUT.json (what each tile shows, judge-check.json's format): n
pictures of each size x shape (random colours, positions and jitter, seeded), in the order small circle … large star.
"""
import argparse
import json
import os
import random
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import nets  # noqa: E402


def specs_by_class(n, seed=77):
    rng = random.Random(seed)
    out = []
    for size in data.SIZES:
        for shape in data.SHAPES:
            for _ in range(n):
                s = data.random_spec(rng)
                s['shape'], s['size'] = shape, size
                out.append(s)
    return out


def main():
    ap = argparse.ArgumentParser()
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument('--ae', help="a train.py autoencoder checkpoint (W/ae.pt, or W/ae-final.pt after stage 3)")
    src.add_argument('--model', help='a model folder this recipe exported (its ONNX files are read back, from_onnx.py)')
    ap.add_argument('--out', required=True, help='OUT.png and OUT.json are written')
    ap.add_argument('--n', type=int, default=40, help='pictures per size x shape')
    a = ap.parse_args()
    if a.n < 1:
        sys.exit(f'ae_recon.py: --n must be at least 1, got {a.n}')
    if a.ae:
        ck = torch.load(a.ae)
        enc, dec = nets.encoder_for(ck['enc']), nets.decoder_for(ck['dec'])
    else:
        import export
        import from_onnx
        enc, dec = from_onnx.load_autoencoder(a.model, nets, export)
    specs = specs_by_class(a.n)
    x = torch.from_numpy(np.stack([data.render(s) for s in specs])).permute(0, 3, 1, 2).float() / 127.5 - 1
    with torch.no_grad():
        y = dec.eval()(enc.eval()(x))
    tiles = ((y.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    cols = 16
    rows = -(-len(tiles) // cols)
    grid = np.zeros((rows * 64, cols * 64, 3), np.uint8)
    for i, t in enumerate(tiles):
        grid[(i // cols) * 64:(i // cols + 1) * 64, (i % cols) * 64:(i % cols + 1) * 64] = t
    Image.fromarray(grid).save(a.out + '.png', optimize=True)
    with open(a.out + '.json', 'w') as f:
        json.dump({'tile': 64, 'columns': cols,
                   'tiles': [{k: s[k] for k in ('shape', 'colour', 'bg', 'pos', 'size')} for s in specs]}, f)
    print(f'{len(specs)} pictures: {a.out}.png, {a.out}.json')


if __name__ == '__main__':
    main()
