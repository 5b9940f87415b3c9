"""The three networks: a VAE-style autoencoder (4 latent channels, 8x down, or 4x with down=2: a 16x16 latent for
64x64 pictures), a CLIP-like text encoder and a conditional UNet with timestep embedding, ResBlocks and
cross-attention (and, with top > 0, a level without attention at the latent's own side above its 8x8 and 4x4 ones)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def gn(c):
    return nn.GroupNorm(8 if c % 8 == 0 else 4, c)


class Res(nn.Module):
    def __init__(self, cin, cout, temb=0):
        super().__init__()
        self.n1, self.c1 = gn(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.n2, self.c2 = gn(cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.t = nn.Linear(temb, cout) if temb else None
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb=None):
        h = self.c1(F.silu(self.n1(x)))
        if self.t is not None:
            h = h + self.t(F.silu(temb))[:, :, None, None]
        h = self.c2(F.silu(self.n2(h)))
        return self.skip(x) + h


# ---------------------------------------------------------------- autoencoder
AE_CH = [24, 48, 64, 96]  # 64, 32, 16, 8 pixel sides
AE_DOWNS = (2, 3)  # halvings from 64 pixels to the latent: 16x16 or 8x8


def _check_down(down):
    if down not in AE_DOWNS:
        raise ValueError(f'the autoencoder halves the picture 2 or 3 times (a 16x16 or 8x8 latent), not {down!r}')


class Encoder(nn.Module):
    def __init__(self, down=3):
        super().__init__()
        _check_down(down)
        c = AE_CH
        self.inp = nn.Conv2d(3, c[0], 3, padding=1)
        self.downs = nn.ModuleList([nn.Conv2d(c[i], c[i + 1], 3, stride=2, padding=1) for i in range(down)])
        self.res = nn.ModuleList([Res(c[i + 1], c[i + 1]) for i in range(down)])
        self.out = nn.Sequential(gn(c[down]), nn.SiLU(), nn.Conv2d(c[down], 4, 3, padding=1))

    def forward(self, x):
        h = F.silu(self.inp(x))
        for d, r in zip(self.downs, self.res):
            h = r(d(h))
        return self.out(h)


class Decoder(nn.Module):
    """extra: pixel sides (16, 32, 64) that get a second residual block after their first (train.py's
    --decoder-extra). Each starts as the identity (its last convolution zero), so a decoder loaded from a checkpoint
    without them draws exactly what it drew before; stage 3 then trains them."""

    def __init__(self, extra=(), down=3):
        super().__init__()
        _check_down(down)
        c = AE_CH
        self.down = down
        self.inp = nn.Conv2d(4, c[down], 3, padding=1)
        self.res0 = Res(c[down], c[down])
        self.res = nn.ModuleList([Res(c[down - i], c[down - i]) for i in range(down)])
        self.ups = nn.ModuleList([nn.Conv2d(c[down - i], c[down - 1 - i], 3, padding=1) for i in range(down)])
        self.fin = Res(c[0], c[0])
        self.out = nn.Sequential(gn(c[0]), nn.SiLU(), nn.Conv2d(c[0], 3, 3, padding=1))
        width = {16: c[2], 32: c[1], 64: c[0]}
        if not set(extra) <= set(width):
            raise ValueError(f'decoder extra blocks at pixel sides {sorted(width)} only, not {sorted(extra)}')
        self.extra = nn.ModuleDict({str(s): Res(width[s], width[s]) for s in sorted(extra)})
        for r in self.extra.values():
            nn.init.zeros_(r.c2.weight), nn.init.zeros_(r.c2.bias)

    def forward(self, z):
        h = self.res0(self.inp(z))
        for side, r, u in zip((8, 16, 32)[3 - self.down:], self.res, self.ups):
            h = r(h)
            if str(side) in self.extra:
                h = self.extra[str(side)](h)
            h = u(F.interpolate(h, scale_factor=2.0, mode='nearest'))
        h = self.fin(h)
        if '64' in self.extra:
            h = self.extra['64'](h)
        return self.out(h)


def decoder_for(state, extra=()):
    """A Decoder with the extra blocks a state dict holds (keys extra.<side>.*), its weights loaded, and the blocks of
    `extra` it lacks added (as the identity). ValueError when the state is not a decoder of this file."""
    have = {int(k.split('.')[1]) for k in state if k.startswith('extra.')}
    dec = Decoder(sorted(have | set(extra)), ae_down(state))
    missing, unexpected = dec.load_state_dict(state, strict=False)
    if unexpected or any(not k.startswith('extra.') or int(k.split('.')[1]) in have for k in missing):
        raise ValueError(f'not a decoder of nets.py: missing {missing}, unexpected {unexpected}')
    return dec


def ae_down(state):
    """How many times the encoder or decoder whose state dict this is halves (or doubles) the picture."""
    return len({k.split('.')[1] for k in state if k.startswith(('downs.', 'ups.'))})


def encoder_for(state):
    """An Encoder with a state dict's weights (8x8 or 16x16 latent, as it was trained)."""
    enc = Encoder(ae_down(state))
    enc.load_state_dict(state)
    return enc


# ---------------------------------------------------------------- text encoder
class Block(nn.Module):
    def __init__(self, d, heads, mlp):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = Attn(d, d, heads)
        self.mlp = nn.Sequential(nn.Linear(d, mlp), nn.GELU(), nn.Linear(mlp, d))

    def forward(self, x):
        h = self.ln1(x)
        x = x + self.attn(h, h)
        return x + self.mlp(self.ln2(x))


class TextEncoder(nn.Module):
    def __init__(self, vocab, d=96, layers=2, heads=4, max_len=77):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.randn(max_len, d) * 0.01)
        self.blocks = nn.ModuleList([Block(d, heads, 2 * d) for _ in range(layers)])
        self.ln = nn.LayerNorm(d)

    def forward(self, ids):
        x = self.tok(ids.long()) + self.pos[None]
        for b in self.blocks:
            x = b(x)
        return self.ln(x)


# ---------------------------------------------------------------- UNet
def timestep_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    a = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(a), torch.sin(a)], dim=1)


class Attn(nn.Module):
    def __init__(self, c, ctx, heads):
        super().__init__()
        self.h = heads
        self.q = nn.Linear(c, c, bias=False)
        self.k = nn.Linear(ctx, c, bias=False)
        self.v = nn.Linear(ctx, c, bias=False)
        self.o = nn.Linear(c, c)

    def forward(self, x, ctx):
        b, n, c = x.shape
        h = self.h
        q = self.q(x).reshape(b, n, h, c // h).transpose(1, 2)
        k = self.k(ctx).reshape(b, -1, h, c // h).transpose(1, 2)
        v = self.v(ctx).reshape(b, -1, h, c // h).transpose(1, 2)
        w = torch.softmax(q @ k.transpose(-1, -2) * (1.0 / math.sqrt(c // h)), dim=-1)
        return self.o((w @ v).transpose(1, 2).reshape(b, n, c))


class XBlock(nn.Module):
    """SD-style transformer block: self-attention, cross-attention to the text, feed-forward."""

    def __init__(self, c, ctx, heads=4):
        super().__init__()
        self.norm = gn(c)
        self.pin = nn.Linear(c, c)
        self.l1, self.l2, self.l3 = nn.LayerNorm(c), nn.LayerNorm(c), nn.LayerNorm(c)
        self.self_attn = Attn(c, c, heads)
        self.cross = Attn(c, ctx, heads)
        self.ff = nn.Sequential(nn.Linear(c, 2 * c), nn.GELU(), nn.Linear(2 * c, c))
        self.pout = nn.Linear(c, c)

    def forward(self, x, ctx):
        b, c, hh, ww = x.shape
        t = self.pin(self.norm(x).reshape(b, c, hh * ww).transpose(1, 2))
        n1 = self.l1(t)
        t = t + self.self_attn(n1, n1)
        t = t + self.cross(self.l2(t), ctx)
        t = t + self.ff(self.l3(t))
        return x + self.pout(t).transpose(1, 2).reshape(b, c, hh, ww)


def coord_channels(x):
    """x and y of each latent pixel's centre in [-1, 1] (B x 2 x h x w), from cumulative sums so any h, w work
    in ONNX. Convolutions alone barely know where they are; the position words need it."""
    ones = torch.ones_like(x[:, :1])
    yy, xx = ones.cumsum(2), ones.cumsum(3)
    return torch.cat([(xx - 0.5) / xx[:, :, :, -1:] * 2 - 1, (yy - 0.5) / yy[:, :, -1:, :] * 2 - 1], 1)


class UNet(nn.Module):
    """Levels at the latent's side (8x8: attention) and half of it (4x4: attention). top > 0 (for a 16x16 latent):
    one more level above them, `top` channels wide, at the latent's own side, convolutions only (the attention stays
    on the 8x8 and 4x4 grids): the input goes in there and a strided convolution takes it down to the 8x8 level; the
    8x8 level's output comes back up beside it."""

    def __init__(self, ctx=96, c0=64, c1=120, temb=128, top=0):
        super().__init__()
        self.c0, self.top = c0, top
        self.sample_size = 16 if top else 8  # the latent side it is trained on (it runs on any even side)
        self.temb = nn.Sequential(nn.Linear(c0, temb), nn.SiLU(), nn.Linear(temb, temb))
        if top:
            self.tin, self.t0 = nn.Conv2d(6, top, 3, padding=1), Res(top, top, temb)
            self.inp = nn.Conv2d(top, c0, 3, stride=2, padding=1)
        else:
            self.inp = nn.Conv2d(6, c0, 3, padding=1)
        self.d0, self.a0 = Res(c0, c0, temb), XBlock(c0, ctx)
        self.down = nn.Conv2d(c0, c0, 3, stride=2, padding=1)
        self.d1 = Res(c0, c1, temb)
        self.m1, self.ma = Res(c1, c1, temb), XBlock(c1, ctx)
        self.u1, self.ua1 = Res(2 * c1, c1, temb), XBlock(c1, ctx)
        self.up = nn.Conv2d(c1, c0, 3, padding=1)
        self.u0, self.ua0 = Res(2 * c0, c0, temb), XBlock(c0, ctx)
        if top:
            self.tup = nn.Conv2d(c0, top, 3, padding=1)
            self.tu = Res(2 * top, top, temb)
            self.out = nn.Sequential(gn(top), nn.SiLU(), nn.Conv2d(top, 4, 3, padding=1))
        else:
            self.out = nn.Sequential(gn(c0), nn.SiLU(), nn.Conv2d(c0, 4, 3, padding=1))

    def forward(self, x, t, ctx):
        te = self.temb(timestep_embedding(t, self.c0))
        h = torch.cat([x, coord_channels(x)], 1)
        if self.top:
            ht = self.t0(self.tin(h), te)
            h = ht
        h0 = self.a0(self.d0(self.inp(h), te), ctx)
        h1 = self.d1(self.down(h0), te)
        m = self.ma(self.m1(h1, te), ctx)
        u = self.ua1(self.u1(torch.cat([m, h1], 1), te), ctx)
        u = self.up(F.interpolate(u, scale_factor=2.0, mode='nearest'))
        u = self.ua0(self.u0(torch.cat([u, h0], 1), te), ctx)
        if self.top:
            u = self.tup(F.interpolate(u, scale_factor=2.0, mode='nearest'))
            u = self.tu(torch.cat([u, ht], 1), te)
        return self.out(u)


def unet_top(state):
    """The width of a UNet state dict's top level (UNet's top; 0: none, the 8x8-latent UNet)."""
    return int(state['tin.weight'].shape[0]) if 'tin.weight' in state else 0


def nparams(m):
    return sum(p.numel() for p in m.parameters())
