"""Quick torch-side evaluation: 20-step DDIM with CFG, judged by a pixel judge like test/pipeline/shapeJudge.ts.

  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 models/train/evaluate.py --work /tmp/shapes-work --tok models/shapes-64/tokenizer
"""
import argparse
import math
import os
import random
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import data  # noqa: E402
import nets  # noqa: E402
from train import sd_alphas_cumprod  # noqa: E402

NAMES = list(data.COLOURS)
RGB = np.array([data.COLOURS[n] for n in NAMES], dtype=np.float64)


def nearest(c):
    return NAMES[int(np.argmin(((RGB - c) ** 2).sum(1)))]


def template(shape, cx, cy, r, size):
    from PIL import Image, ImageDraw
    big = size * 4
    im = Image.new('L', (big, big), 0)
    data.draw_shape(ImageDraw.Draw(im), shape, cx * 4, cy * 4, r * 4, 255)
    return np.asarray(im.resize((size, size), Image.BOX)) > 127


def judge(img):
    h, w, _ = img.shape
    f = img.astype(np.float64)
    border = np.concatenate([f[0], f[-1], f[:, 0], f[:, -1]])
    bg = nearest(np.median(border, 0))
    bgc = RGB[NAMES.index(bg)]
    mask = np.sqrt(((f - bgc) ** 2).sum(-1)) > 80
    if mask.sum() < 4:
        return {'bg': bg, 'colour': None, 'pos': None, 'shape': None}
    colour = nearest(np.median(f[mask], 0))
    ys, xs = np.nonzero(mask)
    cx, cy = xs.mean() + 0.5, ys.mean() + 0.5
    dx, dy = cx / w - 0.5, cy / h - 0.5
    pos = 'centre' if max(abs(dx), abs(dy)) < 0.12 else ('top' if dy < 0 else 'bottom') + ' ' + ('left' if dx < 0 else 'right')
    best, shape = -1, None
    area = mask.sum()
    for s in data.SHAPES:
        # radius giving the mask's area for this shape (area of template at r=10, scaled)
        a10 = template(s, 32, 32, 10, 64).sum()
        r = 10 * math.sqrt(area / max(a10, 1))
        tcy = cy - (0.12 * r if s == 'triangle' else 0)  # a triangle's centroid sits 0.12 r below cy
        t = template(s, cx, tcy, r, w)
        iou = (t & mask).sum() / max((t | mask).sum(), 1)
        if iou > best:
            best, shape = iou, s
    return {'bg': bg, 'colour': colour, 'pos': pos, 'shape': shape}


@torch.no_grad()
def ddim(unet, te, ids_c, ids_u, seed, steps=20, cfg=7.5, side=8):
    ac = sd_alphas_cumprod()
    g = torch.Generator().manual_seed(seed)
    b = ids_c.shape[0]
    x = torch.randn((b, 4, side, side), generator=g)
    ctx = te(torch.cat([ids_u, ids_c]))
    ts = list(range(0, 1000, 1000 // steps))[::-1]
    ts = [t + 1 for t in ts]
    for i, t in enumerate(ts):
        e = unet(torch.cat([x, x]), torch.full((2 * b,), float(t)), ctx)
        eu, ec = e.chunk(2)
        eps = eu + cfg * (ec - eu)
        a = ac[t]
        ap = ac[ts[i + 1]] if i + 1 < len(ts) else ac[0]
        x0 = (x - (1 - a).sqrt() * eps) / a.sqrt()
        x = ap.sqrt() * x0 + (1 - ap).sqrt() * eps
    return x


def prompts(n, seed):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        s = data.random_spec(rng)
        s['named'] = {'pos': True, 'bg': True, 'size': i % 2 == 0}
        words = ['a'] + ([s['size']] if i % 2 == 0 else []) + [s['colour'], s['shape']]
        words.append('in the centre' if s['pos'] == 'centre' else 'in the ' + s['pos'])
        words.append(f"on a {s['bg']} background")
        out.append((' '.join(words), s))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--work', required=True)
    ap.add_argument('--tok', required=True)
    ap.add_argument('--n', type=int, default=120)
    ap.add_argument('--cfg', type=float, default=7.5)
    ap.add_argument('--grid', default='')
    a = ap.parse_args()
    torch.set_num_threads(2)
    tok = bpe.ClipTokenizer.from_dir(a.tok)
    ae = torch.load(os.path.join(a.work, 'ae.pt'))
    ck = torch.load(os.path.join(a.work, 'unet.pt'))
    dec = nets.decoder_for(ae['dec']).eval()
    te = nets.TextEncoder(ck['vocab']); te.load_state_dict(ck['te']); te.eval()
    unet = nets.UNet(top=nets.unet_top(ck['unet'])); unet.load_state_dict(ck['unet']); unet.eval()
    ps = prompts(a.n, 7)
    ids_c = torch.tensor([tok.encode(p) for p, _ in ps], dtype=torch.int32)
    ids_u = torch.tensor([tok.encode('')] * len(ps), dtype=torch.int32)
    z = ddim(unet, te, ids_c, ids_u, 0, cfg=a.cfg, side=unet.sample_size)
    with torch.no_grad():
        imgs = dec(z / ck['sf']).clamp(-1, 1).add(1).mul(127.5).round().byte().permute(0, 2, 3, 1).numpy()
    hits = {'bg': 0, 'colour': 0, 'pos': 0, 'shape': 0}
    per_shape = {s: [0, 0] for s in data.SHAPES}
    for img, (p, s) in zip(imgs, ps):
        j = judge(img)
        hits['bg'] += j['bg'] == s['bg']
        hits['colour'] += j['colour'] == s['colour']
        hits['pos'] += j['pos'] == s['pos']
        hits['shape'] += j['shape'] == s['shape']
        per_shape[s['shape']][0] += j['shape'] == s['shape']
        per_shape[s['shape']][1] += 1
    print({k: round(100 * v / len(ps), 1) for k, v in hits.items()}, per_shape)
    # judge sanity on the training renderer
    rng = random.Random(3)
    ok = {'bg': 0, 'colour': 0, 'pos': 0, 'shape': 0}
    for _ in range(200):
        s = data.random_spec(rng)
        j = judge(data.render(s))
        for k, sk in (('bg', 'bg'), ('colour', 'colour'), ('pos', 'pos'), ('shape', 'shape')):
            ok[k] += j[k] == s[sk]
    print('judge on clean renders (/200):', ok)
    if a.grid:
        from PIL import Image
        k = min(64, len(imgs))
        rows = [np.concatenate(list(imgs[r * 8:(r + 1) * 8]), 1) for r in range(k // 8)]
        Image.fromarray(np.concatenate(rows, 0)).resize((1024, 128 * (k // 8)), Image.NEAREST).save(a.grid)


if __name__ == '__main__':
    main()
