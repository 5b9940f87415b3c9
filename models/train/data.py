"""Procedural shapes and their captions (the grammar the model understands).

Every picture: one flat-coloured shape on a flat background, 64x64 (drawn 4x larger and box-filtered).
A caption names the shape and its colour, and optionally the size, the position and the background colour.
What the caption leaves open is drawn at random, so different seeds give different pictures.
"""
import math
import random

import numpy as np
from PIL import Image, ImageDraw

COLOURS = {
    'red': (220, 40, 40), 'green': (40, 170, 60), 'blue': (40, 80, 220), 'yellow': (240, 210, 40),
    'orange': (240, 130, 30), 'purple': (140, 60, 190), 'white': (240, 240, 240), 'black': (20, 20, 20),
}
SHAPES = ['circle', 'square', 'triangle', 'star']
# name -> (x, y) centre as a fraction of the side
POSITIONS = {
    'centre': (0.5, 0.5), 'top left': (0.27, 0.27), 'top right': (0.73, 0.27),
    'bottom left': (0.27, 0.73), 'bottom right': (0.73, 0.73),
}
SIZES = ['small', 'large']
# half-extent (fraction of the side) ranges per size
SIZE_RANGE = {'small': (0.11, 0.15), 'large': (0.19, 0.24)}
SS = 4  # supersampling factor


def star_points(cx, cy, r, rot=-math.pi / 2, inner=0.45):
    pts = []
    for k in range(10):
        rr = r if k % 2 == 0 else r * inner
        a = rot + k * math.pi / 5
        pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return pts


def draw_shape(draw, shape, cx, cy, r, fill):
    if shape == 'circle':
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif shape == 'square':
        s = r * 0.9
        draw.rectangle([cx - s, cy - s, cx + s, cy + s], fill=fill)
    elif shape == 'triangle':
        # equilateral, pointing up, centroid at (cx, cy)
        pts = [(cx + r * math.cos(a), cy + r * math.sin(a) + r * 0.12)
               for a in (-math.pi / 2, -math.pi / 2 + 2 * math.pi / 3, -math.pi / 2 + 4 * math.pi / 3)]
        draw.polygon(pts, fill=fill)
    elif shape == 'star':
        draw.polygon(star_points(cx, cy, r * 1.1), fill=fill)
    else:
        raise ValueError(f'unknown shape {shape!r}')


def render(spec, size=64):
    """spec: dict with shape, colour, bg, pos (name), size (name), jx, jy, rs (jitter in [-1,1], size in [0,1])."""
    big = size * SS
    img = Image.new('RGB', (big, big), COLOURS[spec['bg']])
    d = ImageDraw.Draw(img)
    lo, hi = SIZE_RANGE[spec['size']]
    r = (lo + (hi - lo) * spec['rs']) * big
    px, py = POSITIONS[spec['pos']]
    jit = 0.05 if spec['pos'] == 'centre' else 0.035
    cx = (px + jit * spec['jx']) * big
    cy = (py + jit * spec['jy']) * big
    draw_shape(d, spec['shape'], cx, cy, r, COLOURS[spec['colour']])
    return np.asarray(img.resize((size, size), Image.BOX), dtype=np.uint8)


def caption(spec, rng):
    """A caption for spec; which optional parts it names is recorded in spec['named']."""
    named_size = rng.random() < 0.5
    named_pos = rng.random() < 0.6
    named_bg = rng.random() < 0.9
    words = ['a']
    if named_size:
        words.append(spec['size'])
    words += [spec['colour'], spec['shape']]
    if named_pos:
        p = spec['pos']
        if p == 'centre':
            words.append(rng.choice(['in the centre', 'in the center', 'in the middle']))
        else:
            words.append('in the ' + p)
    if named_bg:
        words.append(f"on a {spec['bg']} background")
    spec['named'] = {'size': named_size, 'pos': named_pos, 'bg': named_bg}
    return ' '.join(words)


def random_spec(rng):
    colour = rng.choice(list(COLOURS))
    bg = rng.choice([c for c in COLOURS if c != colour])
    return {
        'shape': rng.choice(SHAPES), 'colour': colour, 'bg': bg,
        'pos': rng.choice(list(POSITIONS)), 'size': rng.choice(SIZES),
        'jx': rng.uniform(-1, 1), 'jy': rng.uniform(-1, 1), 'rs': rng.random(),
    }


def make_dataset(n, seed, size=64, empty_frac=0.1):
    """Returns (uint8 images N x H x W x 3, captions list, specs list). ~empty_frac captions are ''."""
    rng = random.Random(seed)
    imgs = np.empty((n, size, size, 3), dtype=np.uint8)
    caps, specs = [], []
    for i in range(n):
        s = random_spec(rng)
        imgs[i] = render(s, size)
        c = caption(s, rng)
        caps.append('' if rng.random() < empty_frac else c)
        specs.append(s)
    return imgs, caps, specs


def all_caption_words():
    """Every caption the grammar can produce, as a corpus for BPE training."""
    rng = random.Random(1)
    return [caption(random_spec(rng), rng) for _ in range(20000)]
