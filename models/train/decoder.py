"""Stage 3 of train.py: fine-tune the VAE decoder on the latents the finished UNet itself produces.

A UNet smooth enough for PLMS and LMS at CFG 7 (README.md: the guidance-Jacobian penalty) pulls its latents toward
the shape less hard than a stiff one, so under the deterministic samplers its shapes come out as soft blobs: the
shape's class is still in the latent (a corner, a flat side), its edges are not. The decoder learns to draw such a
latent as the clean shape it came from. Pairs (latent -> clean picture) of three kinds, drawn once before training:
- generated: a training picture's latent noised to a t between `t_lo` and `t_hi` (the layout is fixed there, the
  shape's details are not) and denoised back with the UNet by 20-step DDIM at CFG 7 from that step on: what a
  sampler ends on;
- one-shot: the UNet's guided x0 estimate from the latent noised to a t ≤ `hat_t` (what LCM and the last steps of
  every sampler return);
- clean: the encoder's latent with 5% noise (the autoencoder's own training pairs, so img2img keeps round-tripping).
The encoder is not touched, so the latent space, `scaling_factor` and `preview.json` stay as they were.
"""
import random

import torch

STEPS20 = [t + 1 for t in range(0, 1000, 50)][::-1]  # diffusers' 20-step 'leading' DDIM timesteps, steps_offset 1


def full_caption(s):
    """The caption that names everything (the way users write prompts for this model)."""
    pos = 'in the centre' if s['pos'] == 'centre' else 'in the ' + s['pos']
    return ' '.join(['a', s['size'], s['colour'], s['shape'], pos, f"on a {s['bg']} background"])


@torch.no_grad()
def make_pairs(unet, te, tok, z0s, specs, ac, g, rng, t_lo=401, t_hi=751, hat_t=400, cfg=7.0, bs=64):
    """z0s: clean latents at the UNet's scale (already x scaling_factor). Returns (generated, one-shot) latents at
    the same scale."""
    starts = [i for i, t in enumerate(STEPS20) if t_lo <= t <= t_hi]
    empty = tok.encode('')
    gen, hat = [], []
    for b0 in range(0, len(z0s), bs):
        z0 = z0s[b0:b0 + bs]
        n = len(z0)
        ids = torch.tensor([tok.encode(full_caption(s)) for s in specs[b0:b0 + bs]] + [empty] * n, dtype=torch.int32)
        ctx = te(ids)
        t = torch.randint(1, hat_t + 1, (n,), generator=g)
        a = ac[t][:, None, None, None]
        zt = a.sqrt() * z0 + (1 - a).sqrt() * torch.randn(z0.shape, generator=g)
        ec, eu = unet(torch.cat([zt, zt]), t.float().repeat(2), ctx).chunk(2)
        hat.append((zt - (1 - a).sqrt() * (eu + cfg * (ec - eu))) / a.sqrt())
        i0 = starts[rng.randrange(len(starts))]
        a = ac[STEPS20[i0]]
        z = a.sqrt() * z0 + (1 - a).sqrt() * torch.randn(z0.shape, generator=g)
        for i in range(i0, len(STEPS20)):
            ec, eu = unet(torch.cat([z, z]), torch.full((2 * n,), float(STEPS20[i])), ctx).chunk(2)
            eps = eu + cfg * (ec - eu)
            a = ac[STEPS20[i]]
            ap = ac[STEPS20[i + 1]] if i + 1 < len(STEPS20) else ac[0]
            z = ap.sqrt() * (z - (1 - a).sqrt() * eps) / a.sqrt() + (1 - ap).sqrt() * eps
        gen.append(z)
    return torch.cat(gen), torch.cat(hat)


def finetune_decoder(dec, te, unet, tok, lat, specs, sf, ac, pictures, recon, loop, seed, pairs=8000, bs=32,
                     gen_frac=0.4, hat_frac=0.3, focus=0.0, refresh=1000, log=print):
    """lat: the encoder's latents of the training pictures (unscaled), specs what they show; pictures(idx) -> (the
    pictures idx as a tensor in [-1, 1], their background colours); recon(y, x, bg) the autoencoder's reconstruction
    loss; loop(params, step_fn) runs the optimisation (train.py's timed_loop with the phase's budget and LR); focus:
    the share of the pairs drawn in proportion to their current loss per shape pixel (generated + one-shot latent,
    remeasured every `refresh` steps; per shape pixel, or large shapes would win by their area alone), so the
    pictures the decoder draws worst come up more often (0: uniform). Returns the decoder, fine-tuned in place."""
    g = torch.Generator().manual_seed(seed)
    rng = random.Random(seed)
    n = min(pairs, len(lat))
    te.eval(), unet.eval()
    zg, zh = make_pairs(unet, te, tok, lat[:n] * sf, specs[:n], ac, g, rng)
    zg, zh = zg / sf, zh / sf
    log(f'decoder pairs: {n} generated (rms off the clean latent {(zg - lat[:n]).pow(2).mean().sqrt():.3f}), '
        f'{n} one-shot, clean latents std {lat.std():.3f}')
    dec.train()
    ng, nh = int(bs * gen_frac), int(bs * hat_frac)
    noise = 0.05 * float(lat.std())
    weights = None  # the draw's probabilities while focus is on (set at each remeasurement)
    classes = {}
    for k, s in enumerate(specs[:n]):
        classes.setdefault(f"{s['size']} {s['shape']}", []).append(k)

    @torch.no_grad()
    def pair_losses(chunk=256):
        out = []
        for b0 in range(0, n, chunk):
            idx = torch.arange(b0, min(n, b0 + chunk))
            x, bg = pictures(idx)
            yg, yh = dec(zg[idx]), dec(zh[idx])
            area = ((x - bg[:, :, None, None]).abs().sum(1) > 0.1).float().mean((1, 2)).clamp(min=0.01)
            out += [float(recon(yg[k:k + 1], x[k:k + 1], bg[k:k + 1]) + recon(yh[k:k + 1], x[k:k + 1], bg[k:k + 1]))
                    / float(area[k]) for k in range(len(idx))]
        return torch.tensor(out)

    def step(i):
        nonlocal weights
        if focus and i % refresh == 0:
            loss = pair_losses()
            w = (1 - focus) / n + focus * loss / loss.sum()
            weights = w / w.sum()
            log(f'decoder step {i}: pair loss per shape pixel by class ' + ', '.join(
                f'{c} {loss[ks].mean():.3f} ({100 * weights[ks].sum():.0f}% of draws)' for c, ks in sorted(classes.items())))
        if focus:
            idx = torch.multinomial(weights, bs, replacement=True, generator=g)
        else:  # uniform (as the weights committed before focus existed were made)
            idx = torch.randint(0, n, (bs,), generator=g)
        x, bg = pictures(idx)
        clean = lat[idx[ng + nh:]]
        z = torch.cat([zg[idx[:ng]], zh[idx[ng:ng + nh]], clean + noise * torch.randn(clean.shape, generator=g)])
        return recon(dec(z), x, bg)

    run = 0.0
    for i, loss in loop(list(dec.parameters()), step):
        run = loss if i == 0 else 0.98 * run + 0.02 * loss
        if i % 100 == 0:
            log(f'decoder step {i} loss {run:.4f}')
    return dec.eval()
