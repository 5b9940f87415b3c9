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
  torch/            save_pretrained folders of every SD 1.5 module (unet_sd15, te_l, vae, taesd): diffusers runs
                    exactly these weights (none for SDXL: its step is measured in the engine only)
  sdxl-fp16/        with --sdxl: SDXL base, fp16 only (an fp32 export of the 10 GB UNet does not fit in 24 GB): every
                    module made on the meta device and given fp16 storage (fp32 never materialises), traced in fp16
                    at a small latent (UNet 8×8, decoders 16×16) with Optimum's dynamic axes, the UNet's weights joined into one model.onnx_data
                    by copying torch's per-tensor files; the build stops itself past --sdxl-max-gib (14) of memory
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
    dest.mkdir(parents=True, exist_ok=True)
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


def export_taesd_decoder(taesd, folder: Path, dtype=None, latent: int = 64) -> None:
    """AutoencoderTiny.decode as diffusers/Optimum name it: latent_sample → sample in [-1, 1]; config.json beside it."""
    import torch

    class Dec(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, latent_sample):
            return self.m.decode(latent_sample).sample

    G.onnx_export(Dec(taesd), (torch.randn(1, 4, latent, latent, dtype=dtype or torch.float32),), folder / 'model.onnx', ['latent_sample'], ['sample'],
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


def rss_guard(limit_gib: float) -> None:
    """Ends this process (exit 3, saying so) when its resident memory passes `limit_gib`: on a shared 24 GB machine an
    SDXL export that grows past its budget must stop before the kernel's OOM killer picks someone else's work."""
    import os
    import threading

    page = os.sysconf('SC_PAGE_SIZE')

    def watch() -> None:
        peak = 0
        while True:
            with open('/proc/self/statm') as f:
                rss = int(f.read().split()[1]) * page
            peak = max(peak, rss)
            if rss > limit_gib * 2 ** 30:
                print(f'build_models.py: resident memory {rss / 2 ** 30:.1f} GiB passed the {limit_gib} GiB budget: stopping',
                      file=sys.stderr, flush=True)
                os._exit(3)
            time.sleep(0.2)

    threading.Thread(target=watch, daemon=True).start()


def random_fp16(ctx: Ctx, make, seed: int):
    """A module made on the meta device, given fp16 storage and drawn as the SD 1.5 weights are (G.Ctx._randomize,
    one parameter at a time): the fp32 model never exists in memory."""
    import torch
    with torch.device('meta'):
        model = make()
    model = model.to(torch.float16).to_empty(device='cpu')
    for name, b in model.named_buffers():  # non-persistent buffers (position ids) are not parameters: rebuild them
        if b.dtype in (torch.int64, torch.int32):
            b.copy_(torch.arange(b.shape[-1], dtype=b.dtype).expand(b.shape))
    G.Ctx._randomize(model, seed)
    return model.eval()


def export_external(module, args, path: Path, inputs, outputs, axes) -> None:
    """torch.onnx.export (TorchScript, opset 18, constant folding) of a model over 2 GB, whose weights torch writes one
    file per tensor; they are then joined into one model.onnx_data (Optimum's layout) by copying the files, without
    loading the weights into memory again (onnx.save would hold all of them at once)."""
    import torch
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(module, args, str(path), input_names=inputs, output_names=outputs, dynamic_axes=axes,
                          do_constant_folding=True, opset_version=18, dynamo=False)
    join_external_data(path)


def join_external_data(path: Path) -> None:
    """The external-data files of `path` (one per tensor) joined into one model.onnx_data beside it, 4096-aligned."""
    import onnx
    from onnx.external_data_helper import ExternalDataInfo
    folder = path.parent
    model = onnx.load(str(path), load_external_data=False)
    data = folder / 'model.onnx_data'
    offset = 0
    used = set()
    with open(data, 'wb') as out:
        for t in model.graph.initializer:
            if t.data_location != onnx.TensorProto.EXTERNAL:
                continue
            info = ExternalDataInfo(t)
            src = folder / info.location
            used.add(src)
            with open(src, 'rb') as f:
                if info.offset:
                    f.seek(info.offset)
                blob = f.read(info.length) if info.length else f.read()
            pad = (-offset) % 4096  # aligned as onnx's own writer does for mmap
            out.write(b'\0' * pad)
            offset += pad
            out.write(blob)
            del t.external_data[:]  # (onnx's set_external_data wants the bytes in memory: written by hand)
            for key, value in (('location', 'model.onnx_data'), ('offset', str(offset)), ('length', str(len(blob)))):
                entry = t.external_data.add()
                entry.key, entry.value = key, value
            offset += len(blob)
            del blob
    onnx.save(model, str(path))
    for f in used:
        if f != data and f.exists():
            f.unlink()


def export_sdxl_fp16(ctx: Ctx, dest: Path, parts: set[str]) -> None:
    """SDXL base in fp16, as an fp16 Optimum export lays it out (every float input, output and weight float16; the UNet
    with one model.onnx_data), traced at a small latent (the UNet at 8×8, the decoders at 16×16:
    torch's fp16 convolutions run at ~0.5 GFLOP/s on this CPU) with Optimum's dynamic axes. No torch copy is kept. `parts` (encoders, vae, unet) says which
    to build now: each is a locked job of its own on the shared machine; a part whose files exist is kept."""
    import torch
    D, T = ctx.diffusers, ctx.transformers
    TextEncoder, Unet, _VaeEncoder, VaeDecoder = G._wrappers()
    corpus = ctx.corpus / G.CORPUS['sdxl']
    dest.mkdir(parents=True, exist_ok=True)
    ids = torch.full((2, 77), 49407, dtype=torch.int64)
    ids[:, 0] = 49406
    hid = {}
    hid['text_encoder_2'] = 1280  # text_embeds: CLIP bigG's projection
    for name, proj in (('text_encoder', False), ('text_encoder_2', True)):
        if 'encoders' not in parts or (dest / name / 'model.onnx').exists():
            continue
        # the text encoders (0.5 and 2.8 GB in fp32) are traced in fp32 and converted as the SD 1.5 fp16 folder is:
        # transformers' CLIP traced in fp16 gives LayerNormalization mixed float/float16 inputs, which ONNX Runtime refuses
        cfg = T.CLIPTextConfig(**clean(G.load_json(corpus / name / 'config.json')))
        torch.manual_seed(3000 + len(name))
        te = (T.CLIPTextModelWithProjection if proj else T.CLIPTextModel)(cfg).float().eval()  # (its config says float16)
        G.Ctx._randomize(te, 3000 + len(name))
        hid[name] = cfg.hidden_size
        nl = cfg.num_hidden_layers
        outs = ['text_embeds', 'last_hidden_state'] if proj else ['last_hidden_state', 'pooler_output']
        hs = [f'hidden_states.{i}' for i in range(nl + 1)]
        axes = {'input_ids': {0: 'batch_size', 1: 'sequence_length'}, 'last_hidden_state': {0: 'batch_size', 1: 'sequence_length'},
                **({'text_embeds': {0: 'batch_size'}} if proj else {'pooler_output': {0: 'batch_size'}}),
                **{h: {0: 'batch_size', 1: 'sequence_length'} for h in hs}}
        log('exporting', name, 'fp32 → fp16')
        fp32 = dest / f'{name}-fp32' / 'model.onnx'
        shutil.rmtree(fp32.parent, ignore_errors=True)
        fp32.parent.mkdir(parents=True)
        with torch.no_grad():
            torch.onnx.export(TextEncoder(te, proj, True), (ids,), str(fp32), input_names=['input_ids'], output_names=outs + hs,
                              dynamic_axes=axes, do_constant_folding=True, opset_version=18, dynamo=False)
        tcfg = te.config.to_dict()
        del te
        gc.collect()
        import onnx
        from onnxruntime.transformers.float16 import convert_float_to_float16
        model = convert_float_to_float16(onnx.load(str(fp32)), keep_io_types=False, disable_shape_infer=True)
        (dest / name).mkdir(parents=True, exist_ok=True)
        onnx.save(model, str(dest / name / 'model.onnx'))
        del model
        gc.collect()
        shutil.rmtree(fp32.parent)
        tcfg['output_hidden_states'] = True
        tcfg['torch_dtype'] = 'float16'
        (dest / name / 'config.json').write_text(json.dumps(tcfg, indent=2, sort_keys=True) + '\n')
    if 'vae' in parts and not (dest / 'taesd' / 'vae_decoder' / 'model.onnx').exists():
        vcfg = clean(G.load_json(corpus / 'vae' / 'config.json'))
        vae = random_fp16(ctx, lambda: D.AutoencoderKL(**vcfg), 3100)
        log('exporting vae_decoder fp16')
        G.onnx_export(VaeDecoder(vae), (torch.randn(1, 4, 16, 16, dtype=torch.float16),), dest / 'vae_decoder' / 'model.onnx', ['latent_sample'], ['sample'],
                      {'latent_sample': {0: 'batch_size', 2: 'latent_height', 3: 'latent_width'},
                       'sample': {0: 'batch_size', 2: 'latent_height * 8', 3: 'latent_width * 8'}}, 18)
        vae.save_config(dest / 'vae_decoder')
        del vae
        gc.collect()
        taesd = random_fp16(ctx, lambda: D.AutoencoderTiny(), 3200)
        log('exporting taesdxl decoder fp16')
        export_taesd_decoder(taesd, dest / 'taesd' / 'vae_decoder', torch.float16, 16)
        del taesd
    if 'unet' in parts and not (dest / 'unet' / 'config.json').exists():
        ucfg = clean(G.load_json(corpus / 'unet' / 'config.json'))
        unet = random_fp16(ctx, lambda: D.UNet2DConditionModel(**ucfg), 3300)
        log('UNet fp16 made:', f'{sum(p.numel() for p in unet.parameters()) / 1e9:.2f} G parameters')
        h = torch.float16
        args = (torch.randn(2, 4, 8, 8, dtype=h), torch.tensor(981.0, dtype=h), torch.randn(2, 77, unet.config.cross_attention_dim, dtype=h),
                torch.randn(2, hid['text_encoder_2'], dtype=h), torch.randn(2, 6, dtype=h))
        extra = ['text_embeds', 'time_ids']
        log('exporting unet fp16 (external data)')
        export_external(Unet(unet, extra), args, dest / 'unet' / 'model.onnx', ['sample', 'timestep', 'encoder_hidden_states', *extra], ['out_sample'],
                        {'sample': {0: 'batch_size', 2: 'height', 3: 'width'}, 'timestep': {},
                         'encoder_hidden_states': {0: 'batch_size', 1: 'sequence_length'}, **{e: {0: 'batch_size'} for e in extra},
                         'out_sample': {0: 'batch_size', 2: 'height', 3: 'width'}})
        unet.save_config(dest / 'unet')
        del unet
        gc.collect()
    G.write_folder_configs(ctx, 'sdxl', dest, False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--diffusers-src', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--shared', default=str(REPO.parent / 'shared'))
    ap.add_argument('--sdxl', action='store_true')
    ap.add_argument('--sdxl-only', action='store_true', help='build SDXL only (SD 1.5 left as it is)')
    ap.add_argument('--sdxl-parts', default='encoders,vae,unet', help='which SDXL parts to build in this run')
    ap.add_argument('--sdxl-max-gib', type=float, default=14.0, help='the SDXL build stops past this resident memory')
    args = ap.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    ctx = Ctx(args.diffusers_src, Path(args.shared).absolute())
    torch_dir = out / 'torch'
    if not args.sdxl_only:
        build_torch(ctx, torch_dir, 'sd15')
        if not (out / 'DONE-sd15-fp32').exists():
            export_sd15(ctx, torch_dir, out / 'sd15-fp32')
            (out / 'DONE-sd15-fp32').write_text('ok\n')
        if not (out / 'DONE-sd15-fp16').exists():
            fp16_folder(out / 'sd15-fp32', out / 'sd15-fp16')
            (out / 'DONE-sd15-fp16').write_text('ok\n')
    if args.sdxl and not (out / 'DONE-sdxl-fp16').exists():
        rss_guard(args.sdxl_max_gib)
        parts = set(args.sdxl_parts.split(','))
        export_sdxl_fp16(ctx, out / 'sdxl-fp16', parts)
        if all((out / 'sdxl-fp16' / f).exists() for f in ('text_encoder/model.onnx', 'text_encoder_2/model.onnx', 'vae_decoder/model.onnx',
                                                          'taesd/vae_decoder/model.onnx', 'unet/config.json')):
            (out / 'DONE-sdxl-fp16').write_text('ok\n')
    log('done', out)


if __name__ == '__main__':
    main()
