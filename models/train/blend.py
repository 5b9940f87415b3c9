"""Blend two checkpoints of one run in weight space: out = (1 - alpha) * A + alpha * B, for the text encoder and the
UNet (the autoencoder, scaling factor, vocabulary and prediction type are B's). The committed weights are such a
blend (README.md): the first version's weights (a `--from-model` run's unet-init.pt) and a `smooth` stage 2 checkpoint,
at alpha 0.7 — most of the smooth phase's stability under LMS, little of its cost to the shapes under Euler and DDIM.

  /usr/bin/python3 models/train/blend.py --work W --a unet-init.pt --b unet-phase0-s2622.pt --alpha 0.7 --out unet-blend.pt
  /usr/bin/python3 models/train/export.py --work W --unet unet-blend.pt --out DIR
"""
import argparse
import os

import torch


def blend(a, b, alpha):
    out = dict(b)
    for part in ('te', 'unet'):
        if a[part].keys() != b[part].keys():
            raise ValueError(f'the two checkpoints\' {part} weights have different names: not one model')
        out[part] = {n: (1 - alpha) * a[part][n].float() + alpha * w.float() if w.is_floating_point() else w
                     for n, w in b[part].items()}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--work', required=True, help='the run\'s work folder (both checkpoints are in it; so is the output)')
    ap.add_argument('--a', required=True, help='checkpoint A (weight 1 - alpha)')
    ap.add_argument('--b', required=True, help='checkpoint B (weight alpha)')
    ap.add_argument('--alpha', type=float, required=True)
    ap.add_argument('--out', required=True, help='file name of the blend, in --work')
    a = ap.parse_args()
    if not 0 <= a.alpha <= 1:
        raise SystemExit(f'--alpha must be between 0 and 1, got {a.alpha}')
    ck = blend(torch.load(os.path.join(a.work, a.a)), torch.load(os.path.join(a.work, a.b)), a.alpha)
    torch.save(ck, os.path.join(a.work, a.out))


if __name__ == '__main__':
    main()
