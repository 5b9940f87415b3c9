"""Train the embedded shapes model end to end on the CPU and export it (see README.md).

  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 models/train/train.py --out models/shapes-64 --work /tmp/shapes-work

Stages: data -> BPE tokenizer -> autoencoder -> latents -> text encoder + UNet (jointly) -> ONNX + configs.
Each stage trains for a wall-clock budget (seconds) with a cosine LR schedule over elapsed time.
"""
import argparse
import copy
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import data  # noqa: E402
import nets  # noqa: E402
import export  # noqa: E402


# Stage 2's default: none — the committed weights are stage 1's. 'shapes:3400:2e-4' is the refinement README.md
# measures (sharper shapes under 8 samplers, but LCM's colours worse: not committed).
STAGE2 = 'none'
PRED = 'epsilon'
STEPS = []  # steps of each phase, for meta.json


def log(*a):
    print(time.strftime('%H:%M:%S'), *a, flush=True)


def sd_alphas_cumprod():
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
    return torch.cumprod(1 - betas, 0).float()


def to_tensor(u8):
    return torch.from_numpy(u8).permute(0, 3, 1, 2).float().div(127.5).sub(1)


def timed_loop(budget_s, lr, params, step_fn, warmup=100, name=''):
    """Runs step_fn(step) until budget_s of wall time is spent; warmup, then a cosine LR over elapsed time (so a
    busy machine gives fewer steps, never a cut-off schedule)."""
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    t0 = time.time()
    step = 0
    while True:
        frac = (time.time() - t0) / budget_s
        if frac >= 1:
            log(f'{name}: {step} steps in {time.time() - t0:.0f} s')
            break
        scale = min(1.0, (step + 1) / warmup) * (0.5 * (1 + math.cos(math.pi * frac)) * 0.97 + 0.03)
        for g in opt.param_groups:
            g['lr'] = lr * scale
        loss = step_fn(step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        yield step, loss.item()
        step += 1


def edge_l1(a, b):
    dx = lambda t: t[..., :, 1:] - t[..., :, :-1]  # noqa: E731
    dy = lambda t: t[..., 1:, :] - t[..., :-1, :]  # noqa: E731
    return (dx(a) - dx(b)).abs().mean() + (dy(a) - dy(b)).abs().mean()


def train_ae(imgs, bgs, budget, seed, bs=32):
    """bgs: N x 3 background colours in [-1, 1]; pixels away from the background weigh 5x in the L1."""
    g = torch.Generator().manual_seed(seed)
    enc, dec = nets.Encoder(), nets.Decoder()
    params = list(enc.parameters()) + list(dec.parameters())
    state = {}

    def step(i):
        idx = torch.randint(0, len(imgs), (bs,), generator=g).numpy()
        x = to_tensor(imgs[idx])
        shape_px = ((x - bgs[idx][:, :, None, None]).abs().sum(1, keepdim=True) > 0.1).float()
        z = enc(x)
        # a little noise on the latents (5% of their spread) keeps the decoder tolerant of slightly-off latents
        zn = z + 0.05 * z.detach().std() * torch.randn(z.shape, generator=g)
        y = dec(zn)
        err = (y - x).abs()
        rec = err.mean()
        loss = (err * (1 + 4 * shape_px)).mean() + edge_l1(y, x) + 0.1 * F.mse_loss(y, x) + 1e-5 * z.pow(2).mean()
        state['rec'] = rec.item()
        return loss

    run = 0.0
    for i, l in timed_loop(budget, 2e-3, params, step, name='ae'):
        run = l if i == 0 else 0.98 * run + 0.02 * l
        if i % 100 == 0:
            log(f'ae step {i} loss {run:.4f} l1 {state["rec"]:.4f}')
    return enc.eval(), dec.eval()


@torch.no_grad()
def encode_all(enc, imgs, bs=256):
    return torch.cat([enc(to_tensor(imgs[i:i + bs])) for i in range(0, len(imgs), bs)])


def train_unet(lat, specs, tok, budget, seed, bs=64, empty_frac=0.1, init=None, lr=8e-4, layout=True, name='unet',
               pred='epsilon', save='', sf=None, vocab=None):
    """init: a unet.pt checkpoint (or {'te', 'unet'} state dicts) to go on from.
    layout False: uniform timesteps and min-SNR-5 weights (learns shapes and colours, ignores positions);
    layout True: half of each batch at t >= 700 and 1/SNR weights below SNR 1 (learns where the text puts the shape).
    pred: 'epsilon' or 'v_prediction' (the UNet predicts v = sqrt(a) eps - sqrt(1 - a) x0; its loss is weighted so
    that it equals the epsilon loss's weighting: |eps^ - eps|^2 = a |v^ - v|^2)."""
    g = torch.Generator().manual_seed(seed)
    rng = random.Random(seed)
    te, unet = nets.TextEncoder(len(tok.vocab)), nets.UNet()
    if init is not None:
        te.load_state_dict(init['te'])
        unet.load_state_dict(init['unet'])
    ema = copy.deepcopy(unet).eval()
    ema_te = copy.deepcopy(te).eval()
    ac = sd_alphas_cumprod()
    params = list(te.parameters()) + list(unet.parameters())
    empty_ids = tok.encode('')

    def step(i):
        idx = torch.randint(0, len(lat), (bs,), generator=g)
        ids = []
        for j in idx.tolist():  # a fresh caption for the picture each time it is drawn
            s = dict(specs[j])
            ids.append(empty_ids if rng.random() < empty_frac else tok.encode(data.caption(s, rng)))
        ids = torch.tensor(ids, dtype=torch.int32)
        x0 = lat[idx]
        # layout: half the batch at high noise (t >= 700), where only the text can say where the shape goes
        high = bs // 2 if layout else 0
        t = torch.cat([torch.randint(0, 1000, (bs - high,), generator=g),
                       torch.randint(700, 1000, (high,), generator=g)])
        eps = torch.randn(x0.shape, generator=g)
        a = ac[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
        out = unet(xt, t.float(), te(ids))
        snr = a / (1 - a)
        # min-SNR-5 weights above SNR 1; below it 1/SNR (at most 50), so that the picture's layout, a tiny part
        # of the epsilon error at high noise, is learnt from the text rather than read off the residual signal
        low = torch.clamp(1 / snr, max=50.0) if layout else torch.ones_like(snr)
        w = torch.where(snr >= 1, torch.clamp(snr, max=5.0) / snr, low).flatten()
        if pred == 'v_prediction':
            target, w = a.sqrt() * eps - (1 - a).sqrt() * x0, w * a.flatten()
        else:
            target = eps
        return ((out - target) ** 2).mean(dim=(1, 2, 3)).mul(w).mean()

    run = 0.0
    last_save = time.time()
    steps = 0
    for i, l in timed_loop(budget, lr, params, step, name=name):
        steps = i + 1
        if save and time.time() - last_save > 600:  # the EMA so far, in case the run must be cut short
            torch.save({'te': ema_te.state_dict(), 'unet': ema.state_dict(), 'sf': sf, 'vocab': vocab, 'pred': pred,
                        'step': i}, save)
            last_save = time.time()
        d = min(0.999, (1 + i) / (10 + i))
        with torch.no_grad():
            for m, e in ((unet, ema), (te, ema_te)):
                for pe, pm in zip(e.parameters(), m.parameters()):
                    pe.mul_(d).add_(pm.detach(), alpha=1 - d)
        run = l if i == 0 else 0.98 * run + 0.02 * l
        if i % 100 == 0:
            log(f'{name} step {i} loss {run:.4f}')
    STEPS.append({'phase': name, 'steps': steps})
    return ema_te, ema


def parse_phases(spec):
    """'layout:900:8e-4,shapes:900:5e-4' -> [(layout?, seconds, peak lr), ...]"""
    out = []
    for p in spec.split(','):
        kind, sec, lr = p.split(':')
        if kind not in ('layout', 'shapes'):
            raise ValueError(f'phase kind must be layout or shapes, got {kind!r}')
        out.append((kind == 'layout', float(sec), float(lr)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--n', type=int, default=40000, help='pictures drawn')
    ap.add_argument('--ae-s', type=float, default=720, help='autoencoder budget, seconds')
    ap.add_argument('--stage1', default='layout:900:8e-4,shapes:900:5e-4',
                    help='stage 1 (the first version of the model, epsilon prediction): kind:seconds:peak lr, ...')
    ap.add_argument('--stage2', default=STAGE2,
                    help='stage 2 (refinement, --pred), from stage 1\'s EMA weights: kind:seconds:peak lr, ... or none')
    ap.add_argument('--pred', default=PRED, choices=['epsilon', 'v_prediction'], help='what the UNet predicts in stage 2')
    ap.add_argument('--empty-frac', type=float, default=0.2,
                    help='share of empty captions (the unconditional model) in stage 2 (stage 1: 0.1)')
    ap.add_argument('--from-model', default='',
                    help='skip the autoencoder and stage 1: import them from a model folder this recipe exported '
                         '(its ONNX files, read with --export-python)')
    ap.add_argument('--export-python', default='/usr/bin/python3',
                    help="a python with Debian's torch 1.13 and python3-onnx: exports the ONNX files (and reads them "
                         "for --from-model) when this one runs another torch")
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--seed', type=int, default=1234)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    os.makedirs(a.work, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    own_exporter = torch.__version__.startswith('1.13')
    t_start = time.time()
    log('torch', torch.__version__, 'threads', a.threads)
    log('drawing', a.n, 'pictures')
    imgs, _, specs = data.make_dataset(a.n, a.seed)
    merges = bpe.train_bpe(data.all_caption_words())
    tok = bpe.write_tokenizer(os.path.join(a.out, 'tokenizer'), merges)
    log('BPE merges', len(merges), 'vocab', len(tok.vocab))
    bgs = torch.tensor([data.COLOURS[sp['bg']] for sp in specs], dtype=torch.float32) / 127.5 - 1
    init = None
    if a.from_model:
        import subprocess
        py = sys.executable if own_exporter else a.export_python
        subprocess.run([py, os.path.join(here, 'from_onnx.py'), a.from_model, a.work], check=True)
        ck = torch.load(os.path.join(a.work, 'ae.pt'))
        enc, dec = nets.Encoder(), nets.Decoder()
        enc.load_state_dict(ck['enc'])
        dec.load_state_dict(ck['dec'])
        enc.eval(), dec.eval()
        init = torch.load(os.path.join(a.work, 'unet-init.pt'))
        log('autoencoder, text encoder and UNet (stage 1) from', a.from_model)
    else:
        enc, dec = train_ae(imgs, bgs, a.ae_s, a.seed)
        torch.save({'enc': enc.state_dict(), 'dec': dec.state_dict()}, os.path.join(a.work, 'ae.pt'))
    lat = encode_all(enc, imgs)
    sf = float(1.0 / lat.std())
    log(f'latent mean {lat.mean():.3f} std {lat.std():.3f} -> scaling_factor {sf:.5f}')
    # Phases of the text encoder + UNet: (layout weighting?, seconds, peak learning rate). Each goes on from the
    # previous one's EMA weights with its own cosine schedule.
    stage1 = [] if a.from_model else parse_phases(a.stage1)
    stage2 = [] if a.stage2 == 'none' else parse_phases(a.stage2)
    plan = [(lay, sec, lr, 'epsilon', 1, 0.1) for lay, sec, lr in stage1] + \
        [(lay, sec, lr, a.pred, 2, a.empty_frac) for lay, sec, lr in stage2]
    if not plan:
        sys.exit('train.py: nothing to train: --from-model skips stage 1 and --stage2 is none')
    for k, (layout, sec, lr, pred, stage, empty_frac) in enumerate(plan):
        te, unet = train_unet(lat * sf, specs, tok, sec, a.seed + k, init=init, lr=lr, layout=layout,
                              name=f'stage{stage}-' + ('layout' if layout else 'shapes'), pred=pred,
                              empty_frac=empty_frac, save=os.path.join(a.work, f'unet-phase{k}.pt'), sf=sf,
                              vocab=len(tok.vocab))
        init = {'te': te.state_dict(), 'unet': unet.state_dict()}
    pred = plan[-1][3]
    torch.save({'te': te.state_dict(), 'unet': unet.state_dict(), 'sf': sf, 'vocab': len(tok.vocab), 'pred': pred},
               os.path.join(a.work, 'unet.pt'))
    train_s = time.time() - t_start
    if own_exporter:
        export.export_all(a.out, enc, dec, te, unet, sf, imgs[:4000], len(tok.vocab), pred)
    else:
        import subprocess
        subprocess.run([a.export_python, os.path.join(here, 'export.py'), '--work', a.work, '--out', a.out,
                        '--seed', str(a.seed)], check=True)
    meta = {'seed': a.seed, 'pictures': a.n, 'torch': torch.__version__, 'threads': a.threads,
            'prediction_type': pred, 'train_seconds': round(train_s),
            'scaling_factor': sf, 'ae_budget_s': None if a.from_model else a.ae_s, 'from_model': a.from_model or None,
            'phases': [{'stage': st, 'layout': lay, 'seconds': sec, 'lr': lr, 'pred': p, 'empty_frac': ef}
                       for lay, sec, lr, p, st, ef in plan],
            'steps': STEPS}
    with open(os.path.join(a.work, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=2)
    log('done in', round(time.time() - t_start), 's')


if __name__ == '__main__':
    main()
