"""Train the embedded shapes model end to end on the CPU and export it (see README.md).

  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 models/train/train.py --out models/shapes-64 --work /tmp/shapes-work

Stages: data -> BPE tokenizer -> autoencoder -> latents -> text encoder + UNet (jointly; stage 1, then an optional
stage 2 and blend) -> optional stage 3 (the VAE decoder fine-tuned on the UNet's own latents, decoder.py) -> ONNX +
configs. Each phase trains for a budget of wall-clock seconds (a cosine LR over elapsed time) or of steps ('3900steps':
a cosine over the steps, the same run on any machine).
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
import blend  # noqa: E402
import bpe  # noqa: E402
import data  # noqa: E402
import decoder  # noqa: E402
import nets  # noqa: E402
import export  # noqa: E402


# Stage 2's default: none — the committed weights are stage 1's (the first version, --from-model) refined by a
# 'smooth:3900steps:2e-4' stage 2 and a 4000-step stage 3 (README.md gives the command and what each run measured).
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


def timed_loop(budget_s, lr, params, step_fn, warmup=100, name='', steps=0):
    """Runs step_fn(step) until budget_s of wall time is spent; warmup, then a cosine LR over elapsed time (so a
    busy machine gives fewer steps, never a cut-off schedule). steps > 0: exactly that many steps, the cosine over
    them (the run is then the same on any machine, whatever its speed; budget_s is not used)."""
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    t0 = time.time()
    step = 0
    while True:
        frac = step / steps if steps else (time.time() - t0) / budget_s
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


def budget(b):
    """A phase's budget: seconds of wall time ('900', 900.0) or a number of steps ('3900steps') -> (seconds, steps)."""
    b = str(b)
    if b.endswith('steps'):
        n = int(b[:-5])
        if n < 1:
            raise ValueError(f'a phase needs at least one step, got {b!r}')
        return 0.0, n
    sec = float(b)
    if sec <= 0:
        raise ValueError(f'a phase needs a positive budget, got {b!r}')
    return sec, 0


def edge_l1(a, b):
    dx = lambda t: t[..., :, 1:] - t[..., :, :-1]  # noqa: E731
    dy = lambda t: t[..., 1:, :] - t[..., :-1, :]  # noqa: E731
    return (dx(a) - dx(b)).abs().mean() + (dy(a) - dy(b)).abs().mean()


def ae_recon(y, x, bg):
    """The autoencoder's reconstruction loss; bg: the pictures' background colours (B x 3, in [-1, 1]): pixels away
    from the background weigh 5x in the L1."""
    shape_px = ((x - bg[:, :, None, None]).abs().sum(1, keepdim=True) > 0.1).float()
    err = (y - x).abs()
    return (err * (1 + 4 * shape_px)).mean() + edge_l1(y, x) + 0.1 * F.mse_loss(y, x)


def train_ae(imgs, bgs, budget_s, seed, bs=32, down=3):
    """bgs: N x 3 background colours in [-1, 1]; pixels away from the background weigh 5x in the L1. down: halvings
    from the picture to the latent (3: 8x8, 2: 16x16)."""
    g = torch.Generator().manual_seed(seed)
    enc, dec = nets.Encoder(down), nets.Decoder(down=down)
    params = list(enc.parameters()) + list(dec.parameters())
    state = {}

    def step(i):
        idx = torch.randint(0, len(imgs), (bs,), generator=g).numpy()
        x = to_tensor(imgs[idx])
        z = enc(x)
        # a little noise on the latents (5% of their spread) keeps the decoder tolerant of slightly-off latents
        zn = z + 0.05 * z.detach().std() * torch.randn(z.shape, generator=g)
        y = dec(zn)
        state['rec'] = (y - x).abs().mean().item()
        return ae_recon(y, x, bgs[idx]) + 1e-5 * z.pow(2).mean()

    run = 0.0
    sec, n = budget(budget_s)
    for i, l in timed_loop(sec, 2e-3, params, step, name='ae', steps=n):
        run = l if i == 0 else 0.98 * run + 0.02 * l
        if i % 100 == 0:
            log(f'ae step {i} loss {run:.4f} l1 {state["rec"]:.4f}')
    return enc.eval(), dec.eval()


@torch.no_grad()
def encode_all(enc, imgs, bs=256):
    return torch.cat([enc(to_tensor(imgs[i:i + bs])) for i in range(0, len(imgs), bs)])


def train_unet(lat, specs, tok, budget_s, seed, bs=64, empty_frac=0.1, init=None, lr=8e-4, layout=True, name='unet',
               pred='epsilon', save='', sf=None, vocab=None, smooth=None, save_every=600, top=0):
    """init: a unet.pt checkpoint (or {'te', 'unet'} state dicts) to go on from.
    layout False: uniform timesteps and min-SNR-5 weights (learns shapes and colours, ignores positions);
    layout True: half of each batch at t >= 700 and 1/SNR weights below SNR 1 (learns where the text puts the shape).
    pred: 'epsilon' or 'v_prediction' (the UNet predicts v = sqrt(a) eps - sqrt(1 - a) x0; its loss is weighted so
    that it equals the epsilon loss's weighting: |eps^ - eps|^2 = a |v^ - v|^2).
    smooth: None, or a dict (weight, bs, h, t_min, target, power, cfg, on, refresh: train.py's --smooth-* options)
    adding weight x guidance_smoothness() to the loss, on guided_states() redrawn every `refresh` steps when on is
    'trajectories'.
    top: the UNet's top level (nets.UNet; for a 16x16 latent) when it starts from nothing; from init, init's."""
    g = torch.Generator().manual_seed(seed)
    rng = random.Random(seed)
    te, unet = nets.TextEncoder(len(tok.vocab)), nets.UNet(top=nets.unet_top(init['unet']) if init else top)
    if init is not None:
        te.load_state_dict(init['te'])
        unet.load_state_dict(init['unet'])
    ema = copy.deepcopy(unet).eval()
    ema_te = copy.deepcopy(te).eval()
    ac = sd_alphas_cumprod()
    params = list(te.parameters()) + list(unet.parameters())
    empty_ids = tok.encode('')
    state = {'pen': 0.0}
    if smooth and pred != 'epsilon':
        raise ValueError('the smooth phase is written for epsilon prediction')

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
        loss = ((out - target) ** 2).mean(dim=(1, 2, 3)).mul(w).mean()
        if smooth:
            opts = {k: v for k, v in smooth.items() if k not in ('on', 'refresh')}
            if smooth['on'] == 'trajectories' and i % smooth['refresh'] == 0:
                state['states'] = guided_states(unet, te, specs, tok, rng, g, ac, empty_ids, cfg=smooth['cfg'],
                                                side=lat.shape[-1])
            pen = guidance_smoothness(unet, te, lat, specs, tok, rng, g, ac, empty_ids, **opts,
                                      states=state.get('states'))
            state['pen'] = pen.item()
            loss = loss + smooth['weight'] * pen
        return loss

    run = pen_run = 0.0
    last_save = time.time()
    steps = 0
    sec, n = budget(budget_s)
    for i, l in timed_loop(sec, lr, params, step, name=name, steps=n):
        steps = i + 1
        if save and time.time() - last_save > save_every:  # the EMA so far, in case the run must be cut short
            torch.save({'te': ema_te.state_dict(), 'unet': ema.state_dict(), 'sf': sf, 'vocab': vocab, 'pred': pred,
                        'step': i}, save)
            if smooth:  # numbered copies, so a run's progress can be judged checkpoint by checkpoint
                torch.save(torch.load(save), save.replace('.pt', f'-s{i}.pt'))
            last_save = time.time()
        d = min(0.999, (1 + i) / (10 + i))
        with torch.no_grad():
            for m, e in ((unet, ema), (te, ema_te)):
                for pe, pm in zip(e.parameters(), m.parameters()):
                    pe.mul_(d).add_(pm.detach(), alpha=1 - d)
        run = l if i == 0 else 0.98 * run + 0.02 * l
        pen_run = state['pen'] if i == 0 else 0.98 * pen_run + 0.02 * state['pen']
        if i % 100 == 0:
            log(f'{name} step {i} loss {run:.4f}' + (f' smoothness {pen_run:.4f}' if smooth else ''))
    STEPS.append({'phase': name, 'steps': steps})
    return ema_te, ema


@torch.no_grad()
def guided_states(unet, te, specs, tok, rng, g, ac, empty_ids, n=16, steps=20, cfg=7.0, side=8):
    """Where a sampler goes: the states of n 20-step Euler trajectories at CFG cfg with the model as it is now, as
    (x_t, t, caption ids) with x_t in the UNet's input scale (x_t = x_k sqrt(a), x_k the k-diffusion state). CFG 7 walks
    off the training distribution (saturated latents); the guided Jacobian is stiff there, not on noised training
    latents, so the smoothness term is measured on these states."""
    ts = [t + 1 for t in range(0, 1000, 1000 // steps)][::-1]  # diffusers' 'leading' spacing, steps_offset 1
    sig = [float(((1 - ac[t]) / ac[t]).sqrt()) for t in ts] + [0.0]
    ids = torch.tensor([tok.encode(data.caption(dict(specs[rng.randrange(len(specs))]), rng)) for _ in range(n)]
                       + [empty_ids] * n, dtype=torch.int32)
    ctx = te(ids)
    x = torch.randn((n, 4, side, side), generator=g) * sig[0]
    xs, tt = [], []
    for i, t in enumerate(ts):
        xin = x / (sig[i] ** 2 + 1) ** 0.5
        xs.append(xin)
        tt.append(torch.full((n,), t))
        ec, eu = unet(torch.cat([xin, xin]), torch.full((2 * n,), float(t)), ctx).chunk(2)
        x = x + (eu + cfg * (ec - eu)) * (sig[i + 1] - sig[i])
    return torch.cat(xs), torch.cat(tt), ids[:n].repeat(len(ts), 1)


def guidance_smoothness(unet, te, lat, specs, tok, rng, g, ac, empty_ids, weight, bs, h, t_min, target, power=0,
                        cfg=7.0, states=None, margin=0.0):
    """How much the guidance term's Jacobian differs between the conditional and the unconditional prediction, along
    a direction v: LMS / PLMS (4th-order Adams-Bashforth) diverge at CFG 7, 20 steps because the guided denoiser
    D_u + w (D_c - D_u) has eigenvalues near -2.5 (stability.py measures them). In k-diffusion units (x = x_t / sqrt a,
    sigma^2 = (1 - a) / a, D = x - sigma eps), a step delta_x = h sigma v (v: unit-variance noise) changes D_c - D_u by
    -sigma (d eps_c - d eps_u), so r = (d eps_c - d eps_u) / h is (J_c - J_u) v in the units of J's eigenvalues; the
    penalty is mean(r^2) over bs states at t >= t_min (one forward of 4 bs: x and x + delta, captioned and empty):
    noised training latents, or `states` (guided_states: where the samplers go).
    target 'uncond': the conditional differences are held fixed (stop-gradient) so the unconditional prediction's
    Jacobian moves toward the conditional one's (the conditional one draws the picture); 'both': both move.
    power > 0: v is not random noise but the stiff direction itself, `power` power iterations (no gradient) on the
    guided denoiser's Jacobian J_g = J_u + cfg (J_c - J_u) from noise: random directions barely see it (stability.py:
    J_g's dominant eigenvalue is about -2.5 while (J_c - J_u) v has an RMS of 0.05 on random v — a few directions).
    margin > 0: a hinge, (max(0, RMS(r) - margin))^2 per state: gaps below the margin (e.g. 0.15: cfg - 1 = 6 times it is
    about 1, CFG 3's stiffness, where LMS is clean) are left alone."""
    if states is None:  # noised training latents
        idx = torch.randint(0, len(lat), (bs,), generator=g)
        ids = torch.tensor([tok.encode(data.caption(dict(specs[j]), rng)) for j in idx.tolist()] + [empty_ids] * bs,
                           dtype=torch.int32)
        t = torch.randint(t_min, 1000, (bs,), generator=g)
        a = ac[t][:, None, None, None]
        x0 = lat[idx]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * torch.randn(x0.shape, generator=g)
    else:  # states of guided trajectories (guided_states), at t >= t_min
        xs, ts, cids = states
        pool = torch.nonzero(ts >= t_min).flatten()
        pick = pool[torch.randint(0, len(pool), (bs,), generator=g)]
        xt, t = xs[pick], ts[pick]
        ids = torch.cat([cids[pick], torch.tensor([empty_ids] * bs, dtype=torch.int32)])
        a = ac[t][:, None, None, None]
    v = torch.randn(xt.shape, generator=g)
    ctx = te(ids)
    cc, cu = ctx.chunk(2)
    tt = t.float().repeat(4)
    if power:
        with torch.no_grad():
            c4 = torch.cat([cc, cc, cu, cu]).detach()
            for _ in range(power):
                ec, ecd, eu, eud = unet(torch.cat([xt, xt + h * (1 - a).sqrt() * v] * 2), tt, c4).chunk(4)
                jv = v - ((eud - eu) + cfg * ((ecd - ec) - (eud - eu))) / h  # J_g v in k-diffusion units
                v = jv / jv.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt().clamp_min(1e-8)
    xd = xt + h * (1 - a).sqrt() * v
    out = unet(torch.cat([xt, xd, xt, xd]), tt, torch.cat([cc, cc, cu, cu]))
    ec, ecd, eu, eud = out.chunk(4)
    dc = ecd - ec
    if target == 'uncond':
        dc = dc.detach()
    r = (dc - (eud - eu)) / h
    if margin:  # only the part of each state's RMS gap above the margin counts
        return F.relu(r.pow(2).mean(dim=(1, 2, 3)).sqrt() - margin).pow(2).mean()
    return r.pow(2).mean()


KINDS = ('layout', 'shapes', 'smooth')


def parse_phases(spec):
    """'layout:900:8e-4,shapes:900:5e-4' -> [(kind, seconds, peak lr), ...]; kinds: layout, shapes, smooth (shapes
    plus guidance_smoothness, --smooth-*)."""
    out = []
    for p in spec.split(','):
        kind, b, lr = p.split(':')
        if kind not in KINDS:
            raise ValueError(f'phase kind must be one of {", ".join(KINDS)}, got {kind!r}')
        budget(b)
        out.append((kind, b, float(lr)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--n', type=int, default=40000, help='pictures drawn')
    ap.add_argument('--ae-s', default='720', help='autoencoder budget: seconds, or Nsteps')
    ap.add_argument('--latent', type=int, choices=[8, 16],
                    help="the latent grid's side for the 64x64 pictures (default 8; 16: an autoencoder that halves twice, "
                         'not three times, and a UNet with a top level, --unet-top, at 16x16); --from-model and --resume '
                         'go on with their own')
    ap.add_argument('--unet-top', type=int, default=48,
                    help='--latent 16: channels of the UNet\'s 16x16 level (convolutions only; attention stays at 8x8, 4x4)')
    ap.add_argument('--stage1', default='layout:900:8e-4,shapes:900:5e-4',
                    help='stage 1 (the first version of the model, epsilon prediction): kind:budget:peak lr, ... (budget: seconds, or Nsteps)')
    ap.add_argument('--stage2', default=STAGE2,
                    help='stage 2 (refinement, --pred), from stage 1\'s EMA weights: kind:budget:peak lr, ... or none')
    ap.add_argument('--pred', default=PRED, choices=['epsilon', 'v_prediction'], help='what the UNet predicts in stage 2')
    ap.add_argument('--empty-frac', type=float, default=0.2,
                    help='share of empty captions (the unconditional model) in stage 2 (stage 1: 0.1)')
    ap.add_argument('--from-model', default='',
                    help='skip the autoencoder and stage 1: import them from a model folder this recipe exported '
                         '(its ONNX files, read with --export-python)')
    ap.add_argument('--export-python', default='/usr/bin/python3',
                    help="a python with Debian's torch 1.13 and python3-onnx: exports the ONNX files (and reads them "
                         "for --from-model) when this one runs another torch")
    ap.add_argument('--smooth-weight', type=float, default=1.0, help='smooth phases: weight of the smoothness term')
    ap.add_argument('--smooth-bs', type=int, default=16, help='smooth phases: pictures per step in the smoothness term')
    ap.add_argument('--smooth-h', type=float, default=0.05,
                    help='smooth phases: finite-difference step, as a share of sigma (k-diffusion units)')
    ap.add_argument('--smooth-tmin', type=int, default=50, help='smooth phases: the term is applied at t >= this')
    ap.add_argument('--smooth-target', default='uncond', choices=['uncond', 'both'],
                    help='smooth phases: which prediction the term moves (uncond: the conditional one is held fixed)')
    ap.add_argument('--smooth-margin', type=float, default=0.0,
                    help='smooth phases: a hinge: only the RMS gap above this counts (0: the plain mean square)')
    ap.add_argument('--smooth-power', type=int, default=3,
                    help='smooth phases: power iterations toward the stiff direction (0: random directions)')
    ap.add_argument('--smooth-on', default='trajectories', choices=['trajectories', 'data'],
                    help='smooth phases: where the term is measured: states of 20-step Euler trajectories at CFG 7 '
                         'drawn with the model being trained (refreshed every --smooth-refresh steps), or noised '
                         'training latents')
    ap.add_argument('--smooth-refresh', type=int, default=10, help='smooth phases: steps between new trajectories')
    ap.add_argument('--blend', type=float, default=1.0,
                    help='the exported text encoder and UNet: (1 - BLEND) x the weights stage 2 started from + BLEND x '
                         "stage 2's (blend.py; 1: stage 2's alone)")
    ap.add_argument('--decoder', default='none',
                    help='stage 3: fine-tune the VAE decoder on the final UNet\'s own latents (decoder.py) for this budget '
                         '(seconds, or Nsteps), or none')
    ap.add_argument('--decoder-lr', type=float, default=5e-4, help='stage 3: peak learning rate')
    ap.add_argument('--decoder-pairs', type=int, default=8000, help='stage 3: training pictures made into pairs')
    ap.add_argument('--decoder-focus', type=float, default=0.0,
                    help="stage 3: share of the pairs drawn in proportion to the decoder's current loss per shape pixel on "
                         'them, remeasured every 1,000 steps (0: uniform; 0…1)')
    ap.add_argument('--decoder-extra', default='',
                    help='stage 3: pixel sides (of 16,32,64, comma-separated) where the decoder gets a second residual '
                         'block, starting as the identity (more capacity for small shapes; ~42 kB of ONNX at 64, '
                         '166 kB at 32, 295 kB at 16)')
    ap.add_argument('--resume', action='store_true',
                    help="skip the phases: take their result from --work's phases-end.pt (written by an earlier run of "
                         'the same command) and go on with the blend, stage 3 and the export')
    ap.add_argument('--save-every', type=float, default=600, help='seconds between mid-phase EMA checkpoints')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--seed', type=int, default=1234)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    os.makedirs(a.work, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    own_exporter = torch.__version__.startswith('1.13')
    parts = [x.strip() for x in a.decoder_extra.split(',') if x.strip()]
    if not all(x.isdigit() for x in parts):
        sys.exit(f'train.py: --decoder-extra {a.decoder_extra!r}: pixel sides, comma-separated (e.g. 32,64)')
    extra = [int(x) for x in parts]
    try:  # (this probe draws from the seeded torch RNG before the real decoder is built: the committed run did too)
        nets.Decoder(extra)
    except ValueError as e:
        sys.exit(f'train.py: --decoder-extra {a.decoder_extra!r}: {e}')
    extra_rng = torch.get_rng_state()  # the extra blocks are drawn from here, whether the autoencoder is new or loaded
    if a.unet_top < 8 or a.unet_top % 8:
        sys.exit(f'train.py: --unet-top must be a positive multiple of 8 (its group norms), got {a.unet_top}')
    if extra and a.decoder == 'none':
        sys.exit('train.py: --decoder-extra needs stage 3 (--decoder): the extra blocks start as the identity')
    t_start = time.time()
    log('torch', torch.__version__, 'threads', a.threads)
    log('drawing', a.n, 'pictures')
    imgs, _, specs = data.make_dataset(a.n, a.seed)
    merges = bpe.train_bpe(data.all_caption_words())
    tok = bpe.write_tokenizer(os.path.join(a.out, 'tokenizer'), merges)
    log('BPE merges', len(merges), 'vocab', len(tok.vocab))
    bgs = torch.tensor([data.COLOURS[sp['bg']] for sp in specs], dtype=torch.float32) / 127.5 - 1
    init = None
    ae_path = os.path.join(a.work, 'ae.pt')
    if a.from_model:
        import subprocess
        py = sys.executable if own_exporter else a.export_python
        subprocess.run([py, os.path.join(here, 'from_onnx.py'), a.from_model, a.work], check=True)  # writes ae.pt
        init = torch.load(os.path.join(a.work, 'unet-init.pt'))
        log('autoencoder, text encoder and UNet (stage 1) from', a.from_model)
    if a.from_model or a.resume:  # imported, or the one the earlier run trained (a wall-clock budget would differ)
        ck = torch.load(ae_path)
        try:  # the decoder's extra blocks: those it has (a model made with --decoder-extra) and those asked for
            dec = nets.decoder_for(ck['dec'], extra)
            enc = nets.encoder_for(ck['enc'])
        except (ValueError, RuntimeError) as e:
            sys.exit(f'train.py: {ae_path}: {e}')
        enc.eval(), dec.eval()
        log('autoencoder from', ae_path)
    else:
        enc, dec = train_ae(imgs, bgs, a.ae_s, a.seed, down={8: 3, 16: 2}[a.latent or 8])
        torch.save({'enc': enc.state_dict(), 'dec': dec.state_dict()}, ae_path)
        if extra:  # the same draws as a --resume of this run makes (the blocks are the identity until stage 3)
            with torch.random.fork_rng():
                torch.set_rng_state(extra_rng)
                dec = nets.decoder_for(dec.state_dict(), extra).eval()
    lat = encode_all(enc, imgs)
    if a.latent and lat.shape[-1] != a.latent:
        sys.exit(f'train.py: --latent {a.latent}, but the autoencoder from {a.from_model or ae_path} makes '
                 f'{lat.shape[-1]}x{lat.shape[-1]} latents')
    sf = float(1.0 / lat.std())
    if a.from_model:  # the imported UNet was trained on latents at the model's own scale, whatever --n draws now
        with open(os.path.join(a.from_model, 'vae_decoder', 'config.json')) as f:
            sf = float(json.load(f)['scaling_factor'])
    log(f'latents {tuple(lat.shape[1:])}, mean {lat.mean():.3f} std {lat.std():.3f} -> scaling_factor {sf:.5f}')
    # Phases of the text encoder + UNet: (layout weighting?, seconds, peak learning rate). Each goes on from the
    # previous one's EMA weights with its own cosine schedule.
    stage1 = [] if a.from_model else parse_phases(a.stage1)
    stage2 = [] if a.stage2 == 'none' else parse_phases(a.stage2)
    plan = [(kind, sec, lr, 'epsilon', 1, 0.1) for kind, sec, lr in stage1] + \
        [(kind, sec, lr, a.pred, 2, a.empty_frac) for kind, sec, lr in stage2]
    smooth = {'weight': a.smooth_weight, 'bs': a.smooth_bs, 'h': a.smooth_h, 't_min': a.smooth_tmin,
              'target': a.smooth_target, 'margin': a.smooth_margin, 'power': a.smooth_power, 'cfg': 7.0, 'on': a.smooth_on,
              'refresh': a.smooth_refresh}
    if not plan:
        sys.exit('train.py: nothing to train: --from-model skips stage 1 and --stage2 is none')
    if a.decoder != 'none':
        budget(a.decoder)  # a typo fails now, not after the UNet's hour
    if not 0 <= a.decoder_focus <= 1:
        sys.exit(f'train.py: --decoder-focus must be in [0, 1], got {a.decoder_focus}')
    if not 0 < a.blend <= 1:
        sys.exit(f'train.py: --blend must be in (0, 1], got {a.blend}')
    if a.blend != 1.0 and not stage2:
        sys.exit('train.py: --blend needs a stage 2')
    stage2_from = None
    phases_end = os.path.join(a.work, 'phases-end.pt')
    if a.resume:  # the phases of an earlier run of this command, finished: on to the blend and stage 3
        ck = torch.load(phases_end)
        if ck['plan'] != plan:
            sys.exit(f'train.py: --resume: {phases_end} was trained with other phases: {ck["plan"]}')
        te, unet = nets.TextEncoder(len(tok.vocab)).eval(), nets.UNet(top=nets.unet_top(ck['unet'])).eval()
        te.load_state_dict(ck['te'])
        unet.load_state_dict(ck['unet'])
        init, stage2_from = {'te': ck['te'], 'unet': ck['unet']}, ck['stage2_from']
        STEPS.extend(ck['steps'])
        log('phases from', phases_end, ck['steps'])
    for k, (kind, sec, lr, pred, stage, empty_frac) in enumerate([] if a.resume else plan):
        te, unet = train_unet(lat * sf, specs, tok, sec, a.seed + k, init=init, lr=lr, layout=kind == 'layout',
                              name=f'stage{stage}-{kind}', pred=pred, empty_frac=empty_frac,
                              save=os.path.join(a.work, f'unet-phase{k}.pt'), sf=sf, vocab=len(tok.vocab),
                              smooth=smooth if kind == 'smooth' else None, save_every=a.save_every,
                              top=a.unet_top if lat.shape[-1] == 16 else 0)
        if stage == 2 and stage2_from is None:
            stage2_from = init
        init = {'te': te.state_dict(), 'unet': unet.state_dict()}
    if not a.resume:
        torch.save({'te': init['te'], 'unet': init['unet'], 'stage2_from': stage2_from, 'plan': plan, 'steps': STEPS},
                   phases_end)
    pred = plan[-1][3]
    if a.blend != 1.0:
        init = blend.blend(stage2_from, init, a.blend)
        te.load_state_dict(init['te'])
        unet.load_state_dict(init['unet'])
        log(f'text encoder and UNet: {1 - a.blend:g} x stage 2\'s start + {a.blend:g} x its end')
    torch.save({'te': te.state_dict(), 'unet': unet.state_dict(), 'sf': sf, 'vocab': len(tok.vocab), 'pred': pred},
               os.path.join(a.work, 'unet.pt'))
    ae_file = 'ae.pt'
    if a.decoder != 'none':  # stage 3 (decoder.py): the decoder learns to draw this UNet's latents as clean shapes
        sec, n = budget(a.decoder)
        dec = decoder.finetune_decoder(
            dec, te, unet, tok, lat, specs, sf, sd_alphas_cumprod(),
            lambda idx: (to_tensor(imgs[idx.numpy()]), bgs[idx]), ae_recon,
            lambda params, fn: timed_loop(sec, a.decoder_lr, params, fn, name='stage3-decoder', steps=n),
            a.seed + 100, pairs=a.decoder_pairs, focus=a.decoder_focus, log=log)
        ae_file = 'ae-final.pt'
        torch.save({'enc': enc.state_dict(), 'dec': dec.state_dict()}, os.path.join(a.work, ae_file))
    train_s = time.time() - t_start
    if own_exporter:
        export.export_all(a.out, enc, dec, te, unet, sf, imgs[:4000], len(tok.vocab), pred)
    else:
        import subprocess
        subprocess.run([a.export_python, os.path.join(here, 'export.py'), '--work', a.work, '--out', a.out,
                        '--seed', str(a.seed), '--ae', ae_file], check=True)
    meta = {'seed': a.seed, 'pictures': a.n, 'torch': torch.__version__, 'threads': a.threads,
            'prediction_type': pred, 'train_seconds': round(train_s),
            'latent': int(lat.shape[-1]), 'unet_top': unet.top, 'scaling_factor': sf,
            'ae_budget_s': None if a.from_model else a.ae_s, 'from_model': a.from_model or None,
            'phases': [{'stage': st, 'kind': kind, 'budget': sec, 'lr': lr, 'pred': p, 'empty_frac': ef}
                       for kind, sec, lr, p, st, ef in plan],
            'smooth': smooth if any(p[0] == 'smooth' for p in plan) else None,
            'steps': STEPS, 'blend': a.blend,
            'decoder': None if a.decoder == 'none' else {'budget': a.decoder, 'lr': a.decoder_lr, 'pairs': a.decoder_pairs,
                                                         'focus': a.decoder_focus, 'extra': extra}}
    with open(os.path.join(a.work, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=2)
    log('done in', round(time.time() - t_start), 's')


if __name__ == '__main__':
    main()
