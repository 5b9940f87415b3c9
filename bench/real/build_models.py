#!/usr/bin/env python3
"""
Full-width Stable Diffusion graphs with random weights for `npm run bench:real` (issue 15): diffusers' own classes
with the real configs (../shared/data/real-configs), exported as Optimum does — the generator of the tiny
real-architecture fixtures (test/fixtures/real-arch/generate.py, imported from this repository) without the
shrinking. Never committed, never in CI: written into a cache folder outside the repository.

  build_models.py --diffusers-src DIR --out DIR [--shared DIR] [--sdxl]

Writes, under --out:
  sd15-fp32/        an Optimum-layout folder: text_encoder/, unet/ (model.onnx + model.onnx_data), vae_decoder/,
                    taesd/vae_decoder/ (AutoencoderTiny's decoder, random weights: the fast decode), tokenizer/, scheduler/
  sd15-fp16/        the same with every graph converted by onnxruntime.transformers.float16 (keep_io_types=False)
  torch/            save_pretrained folders of every module (unet_sd15, te_l, vae, taesd; SDXL: unet_sdxl, te_g):
                    diffusers runs exactly these weights
  sdxl-fp16/        with --sdxl: SDXL base, fp16 only (an fp32 export of the 10 GB UNet does not fit in 24 GB)
  DONE-<name>       written when a folder is complete (a later run skips it)
Run with ATEN_CPU_CAPABILITY=avx2; ~15 min and ~12 GB of memory for SD 1.5 on 2 cores.
"""
from __future__ import annotations

import argparse
import gc
import json
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / 'test' / 'fixtures' / 'real-arch'))
import generate as G  # noqa: E402  (the fixture generator: its export wrappers, Optimum's axes, fp16 conversion)


def log(*a):
    print(time.strftime('%H:%M:%S'), *a, flush=True)


class Ctx:
    """What generate.write_folder_configs reads (the corpus, the CLIP files, diffusers)."""

    def __init__(self, diffusers_src: str, shared: Path):
        sys.path.insert(0, str(Path(diffusers_src).resolve()))
        import diffusers
        import transformers
        self.diffusers, self.transformers = diffusers, transformers
        self.shared = shared
        self.corpus = shared / 'data' / 'real-configs'
        self.clip = shared / 'data' / 'clip'


def clean(raw: dict) -> dict:
    return {k: v for k, v in raw.items() if not k.startswith('_')}


def build_torch(ctx: Ctx, torch_dir: Path, family: str) -> None:
    import torch
    D, T = ctx.diffusers, ctx.transformers
    corpus = ctx.corpus / G.CORPUS[family]
    kinds = {'sd15': [('unet_sd15', 'unet'), ('te_l', 'text_encoder'), ('vae', 'vae'), ('taesd', None)],
             'sdxl': [('unet_sdxl', 'unet'), ('te_l_xl', 'text_encoder'), ('te_g', 'text_encoder_2'), ('vae_xl', 'vae'), ('taesdxl', None)]}[family]
    for kind, part in kinds:
        dest = torch_dir / kind
        if (dest / 'config.json').exists():
            continue
        torch.manual_seed(sum(kind.encode()))
        log('building', kind)
        if kind == 'te_g':
            model = T.CLIPTextModelWithProjection(T.CLIPTextConfig(**clean(G.load_json(corpus / part / 'config.json'))))
        elif kind.startswith('te_'):
            model = T.CLIPTextModel(T.CLIPTextConfig(**clean(G.load_json(corpus / part / 'config.json'))))
        elif kind.startswith('unet'):
            model = D.UNet2DConditionModel(**clean(G.load_json(corpus / part / 'config.json')))
        elif kind.startswith('vae'):
            model = D.AutoencoderKL(**clean(G.load_json(corpus / part / 'config.json')))
        else:
            model = D.AutoencoderTiny()  # madebyollin/taesd's config is AutoencoderTiny's default
        model.eval()
        G.Ctx._randomize(model, 1000 + sum(kind.encode()))
        model.save_pretrained(dest, safe_serialization=True)
        del model
        gc.collect()


def export_sd15(ctx: Ctx, torch_dir: Path, dest: Path) -> None:
    import torch
    D, T = ctx.diffusers, ctx.transformers
    TextEncoder, Unet, _VaeEncoder, VaeDecoder = G._wrappers()
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    ids = torch.full((2, 77), 49407, dtype=torch.int64)
    ids[:, 0] = 49406
    te = T.CLIPTextModel.from_pretrained(torch_dir / 'te_l').eval()
    log('exporting text_encoder')
    G.onnx_export(TextEncoder(te, False, False), (ids,), dest / 'text_encoder' / 'model.onnx', ['input_ids'],
                  ['last_hidden_state', 'pooler_output'],
                  {'input_ids': {0: 'batch_size', 1: 'sequence_length'}, 'last_hidden_state': {0: 'batch_size', 1: 'sequence_length'},
                   'pooler_output': {0: 'batch_size'}}, 18)
    (dest / 'text_encoder' / 'config.json').write_text(json.dumps(te.config.to_dict(), indent=2, sort_keys=True) + '\n')
    del te
    gc.collect()
    vae = D.AutoencoderKL.from_pretrained(torch_dir / 'vae').eval()
    log('exporting vae_decoder')
    G.onnx_export(VaeDecoder(vae), (torch.randn(1, 4, 64, 64),), dest / 'vae_decoder' / 'model.onnx', ['latent_sample'], ['sample'],
                  {'latent_sample': {0: 'batch_size', 2: 'latent_height', 3: 'latent_width'},
                   'sample': {0: 'batch_size', 2: 'latent_height * 8', 3: 'latent_width * 8'}}, 18)
    vae.save_config(dest / 'vae_decoder')
    del vae
    gc.collect()
    taesd = D.AutoencoderTiny.from_pretrained(torch_dir / 'taesd').eval()
    log('exporting taesd decoder')
    export_taesd_decoder(taesd, dest / 'taesd' / 'vae_decoder')
    del taesd
    unet = D.UNet2DConditionModel.from_pretrained(torch_dir / 'unet_sd15').eval()
    log('exporting unet (external data, as Optimum does over 2 GB)')
    G.onnx_export(Unet(unet, []), (torch.randn(2, 4, 64, 64), torch.tensor(981.0), torch.randn(2, 77, 768)),
                  dest / 'unet' / 'model.onnx', ['sample', 'timestep', 'encoder_hidden_states'], ['out_sample'],
                  {'sample': {0: 'batch_size', 2: 'height', 3: 'width'}, 'timestep': {},
                   'encoder_hidden_states': {0: 'batch_size', 1: 'sequence_length'},
                   'out_sample': {0: 'batch_size', 2: 'height', 3: 'width'}}, 18, 'model.onnx_data', 100)
    unet.save_config(dest / 'unet')
    del unet
    gc.collect()
    G.write_folder_configs(ctx, 'sd15', dest, False)


def export_taesd_decoder(taesd, folder: Path) -> None:
    """AutoencoderTiny.decode as diffusers/Optimum name it: latent_sample → sample in [-1, 1]; config.json beside it."""
    import torch

    class Dec(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, latent_sample):
            return self.m.decode(latent_sample).sample

    G.onnx_export(Dec(taesd), (torch.randn(1, 4, 64, 64),), folder / 'model.onnx', ['latent_sample'], ['sample'],
                  {'latent_sample': {0: 'batch_size', 2: 'latent_height', 3: 'latent_width'},
                   'sample': {0: 'batch_size', 2: 'latent_height * 8', 3: 'latent_width * 8'}}, 18)
    taesd.save_config(folder)


def fp16_folder(src: Path, dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, symlinks=True, ignore=shutil.ignore_patterns('*.onnx', '*.onnx_data'))
    for f in sorted(src.rglob('model.onnx')):
        rel = f.relative_to(src)
        log('fp16', rel)
        # generate.to_fp16's converter call, without its shape inference (which serialises the model: > 2 GB fails);
        # the fp16 UNet (1.7 GB) fits in one protobuf: inline, as a < 2 GB Optimum export is written
        import onnx
        from onnxruntime.transformers.float16 import convert_float_to_float16
        model = convert_float_to_float16(onnx.load(str(f)), keep_io_types=False, disable_shape_infer=True)
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        onnx.save(model, str(dst / rel))
        del model
        gc.collect()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--diffusers-src', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--shared', default=str(REPO.parent / 'shared'))
    ap.add_argument('--sdxl', action='store_true')
    args = ap.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    ctx = Ctx(args.diffusers_src, Path(args.shared).absolute())
    torch_dir = out / 'torch'
    build_torch(ctx, torch_dir, 'sd15')
    if not (out / 'DONE-sd15-fp32').exists():
        export_sd15(ctx, torch_dir, out / 'sd15-fp32')
        (out / 'DONE-sd15-fp32').write_text('ok\n')
    if not (out / 'DONE-sd15-fp16').exists():
        fp16_folder(out / 'sd15-fp32', out / 'sd15-fp16')
        (out / 'DONE-sd15-fp16').write_text('ok\n')
    if args.sdxl:
        log('SDXL: not built by this version (fp16 SDXL needs the 10 GB fp32 UNet in memory to convert): skipped')
    log('done', out)


if __name__ == '__main__':
    main()
