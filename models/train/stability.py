"""How stiff the guided ODE is, step by step: why LMS / PLMS (4th-order linear multistep) turn this model's pictures
into noise at 20 steps, CFG 7, while Euler, DPM++ 2M, DDIM ... draw them (README.md, "What the recipe learnt").

  PYTHONPATH=/work/ref/diffusers/src ATEN_CPU_CAPABILITY=avx2 /work/venv/bin/python models/train/stability.py \\
      --ckpt /tmp/shapes-work/unet.pt --tok models/shapes-64/tokenizer [--traj euler|lms] [--cfg 7]

--ckpt: a train.py checkpoint ({'te', 'unet'}: unet.pt, unet-phaseK.pt, or unet-init.pt that --from-model writes from
a committed model's ONNX files, exactly). Diffusers' schedulers (from the model's own scheduler config, as the
engine builds them) give the sigmas and walk the trajectory; in k-diffusion units (x = x_t / sqrt(a),
sigma^2 = (1 - a) / a, D = x - sigma eps) it measures at each step, by finite differences of the torch UNet
(delta x = 1e-2 sigma v):

- gain u / c / c-u: the RMS of J v for random unit-variance directions v, for the unconditional denoiser D_u, the
  conditional D_c and the guidance difference D_c - D_u (what CFG multiplies by w - 1);
- <v,Jv> u / c / g: the Rayleigh quotients on those directions (the average eigenvalue), g the guided denoiser
  D_g = D_u + w (D_c - D_u);
- lam_g: the dominant eigenvalue of J_g by power iteration (sign from its Rayleigh quotient), median and most
  negative over the pictures;
- z = (delta sigma / sigma) (1 - lam_g): the step times the ODE's eigenvalue (dx/dsigma = (x - D) / sigma has the
  Jacobian (I - J_g) / sigma). Adams-Bashforth with constant steps is stable on the negative real axis down to
  z = -1 (order 2), -6/11 (3), -3/10 (4); Euler down to -2. LMS is order 4 from its 4th step on; PLMS likewise.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import evaluate  # noqa: E402
import nets  # noqa: E402

AB_LIMIT = {1: -2.0, 2: -1.0, 3: -6 / 11, 4: -0.3}


def load(ckpt, vocab):
    ck = torch.load(ckpt)
    te = nets.TextEncoder(ck.get('vocab', vocab))
    te.load_state_dict(ck['te'])
    unet = nets.UNet(top=nets.unet_top(ck['unet']))
    unet.load_state_dict(ck['unet'])
    return te.eval(), unet.eval()


def unit_noise(shape, g):
    return torch.randn(shape, generator=g)  # unit variance per element: |v|^2 = 256 for a 4x8x8 latent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ckpt', required=True)
    ap.add_argument('--tok', required=True)
    ap.add_argument('--model', default='', help='model folder whose scheduler_config.json to use (default: --tok/..)')
    ap.add_argument('--traj', default='euler', choices=['euler', 'lms'])
    ap.add_argument('--cfg', type=float, default=7.0)
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--n', type=int, default=8, help='pictures (prompts as evaluate.py draws them)')
    ap.add_argument('--dirs', type=int, default=4, help='random directions per picture and step')
    ap.add_argument('--iters', type=int, default=8, help='power iterations')
    ap.add_argument('--seed', type=int, default=5)
    ap.add_argument('--json', default='', help='write the per-step figures here')
    a = ap.parse_args()
    torch.set_num_threads(1)
    from diffusers import EulerDiscreteScheduler, LMSDiscreteScheduler
    model = a.model or os.path.dirname(os.path.abspath(a.tok))
    cfg = json.load(open(os.path.join(model, 'scheduler', 'scheduler_config.json')))
    cfg = {k: v for k, v in cfg.items() if not k.startswith('_')}
    sched = (EulerDiscreteScheduler if a.traj == 'euler' else LMSDiscreteScheduler).from_config(cfg)
    sched.set_timesteps(a.steps)
    tok = bpe.ClipTokenizer.from_dir(a.tok)
    te, unet = load(a.ckpt, len(tok.vocab))
    ps = evaluate.prompts(a.n, 11)
    n = len(ps)
    ids = torch.tensor([tok.encode(p) for p, _ in ps] + [tok.encode('')] * n, dtype=torch.int32)
    w = a.cfg
    with torch.no_grad():
        ctx = te(ids)

    @torch.no_grad()
    def denoise(x, t, sig):
        """x: n pictures (k-diffusion units) -> (D_g, D_c, D_u)."""
        xi = x / (sig ** 2 + 1) ** 0.5
        e = unet(torch.cat([xi, xi]), torch.full((2 * n,), float(t)), ctx)
        d = torch.cat([x, x]) - sig * e
        dc, du = d[:n], d[n:]
        return du + w * (dc - du), dc, du

    def per(v):  # per-picture mean over the latent's elements
        return v.flatten(1).mean(1)

    g = torch.Generator().manual_seed(a.seed)
    x = torch.randn((n, 4, unet.sample_size, unet.sample_size), generator=g) * sched.init_noise_sigma
    rows = []
    print(f'{a.traj} trajectory, CFG {w}, {a.steps} steps, {n} pictures; {a.ckpt}')
    print(' i    t  sigma  dsig/sig | gain u   c    c-u | <v,Jv> u     c      g  | lam_g med   min |   z med   min')
    for i, t in enumerate(sched.timesteps):
        sig = float(sched.sigmas[i])
        sn = float(sched.sigmas[i + 1])
        dg, dc, du = denoise(x, t, sig)
        e = 1e-2 * sig
        gains = {'u': [], 'c': [], 'cu': []}
        rq = {'u': [], 'c': [], 'g': []}
        for _ in range(a.dirs):
            v = unit_noise(x.shape, g)
            og, oc, ou = denoise(x + e * v, t, sig)
            jg, jc, ju = (og - dg) / e, (oc - dc) / e, (ou - du) / e
            gains['u'].append(per(ju ** 2).sqrt())
            gains['c'].append(per(jc ** 2).sqrt())
            gains['cu'].append(per((jc - ju) ** 2).sqrt())
            rq['u'].append(per(v * ju))
            rq['c'].append(per(v * jc))
            rq['g'].append(per(v * jg))
        v = unit_noise(x.shape, g)
        for _ in range(a.iters):
            jv = (denoise(x + e * v, t, sig)[0] - dg) / e
            norm = per(jv ** 2).sqrt()
            lam = norm * torch.sign(per(v * jv))
            v = jv / norm[:, None, None, None]
        ratio = (sn - sig) / sig
        z = ratio * (1 - lam)
        row = {'i': i, 't': float(t), 'sigma': sig, 'dsig_over_sig': ratio,
               **{f'gain_{k}': float(torch.stack(vs).mean()) for k, vs in gains.items()},
               **{f'rayleigh_{k}': float(torch.stack(vs).mean()) for k, vs in rq.items()},
               'lam_g_median': float(lam.median()), 'lam_g_min': float(lam.min()),
               'z_median': float(z.median()), 'z_min': float(z.min())}
        rows.append(row)
        print(f'{i:2d} {float(t):4.0f} {sig:6.2f} {ratio:8.2f} | {row["gain_u"]:6.2f} {row["gain_c"]:4.2f} '
              f'{row["gain_cu"]:5.2f} | {row["rayleigh_u"]:6.2f} {row["rayleigh_c"]:5.2f} {row["rayleigh_g"]:6.2f} | '
              f'{row["lam_g_median"]:8.2f} {row["lam_g_min"]:5.2f} | {row["z_median"]:6.2f} {row["z_min"]:5.2f}',
              flush=True)
        with torch.no_grad():
            if a.traj == 'euler':
                x = x + (x - dg) / sig * (sn - sig)
            else:  # diffusers' LMS on the guided epsilon (its default order 4)
                eps = (x - dg) / sig
                x = sched.step(eps, t, x).prev_sample
    zs = np.array([r['z_median'] for r in rows[:-1]])  # the last step (to sigma 0) is Euler in every sampler
    for order, lim in AB_LIMIT.items():
        bad = [r['sigma'] for r in rows[:-1] if r['z_median'] < lim]
        print(f'order {order} (stable for z >= {lim:.2f}): median z outside at {len(bad)} of {len(zs)} steps'
              + (f', sigma {max(bad):.2f} .. {min(bad):.2f}' if bad else ''))
    if a.json:
        with open(a.json, 'w') as f:
            json.dump({'ckpt': a.ckpt, 'traj': a.traj, 'cfg': w, 'steps': a.steps, 'rows': rows}, f, indent=1)


if __name__ == '__main__':
    main()
