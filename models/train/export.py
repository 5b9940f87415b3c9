"""ONNX export (Optimum names, dynamic batch / height / width, fp32) and the diffusers configs."""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

import nets

OPSET = 14
DIFFUSERS_VERSION = '0.21.0'


def _onnx(model, args, path, inputs, outputs, axes):
    if isinstance(path, str):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.onnx.export(model, args, path, input_names=inputs, output_names=outputs, dynamic_axes=axes,
                      opset_version=OPSET, do_constant_folding=True)


def _json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2)
        f.write('\n')


class _TE(torch.nn.Module):
    def __init__(self, te):
        super().__init__()
        self.te = te

    def forward(self, input_ids):
        return self.te(input_ids)


HW = {0: 'batch', 2: 'height', 3: 'width'}


def export_te(te, f):
    _onnx(_TE(te), (torch.zeros(1, 77, dtype=torch.int32),), f,
          ['input_ids'], ['last_hidden_state'], {'input_ids': {0: 'batch'}, 'last_hidden_state': {0: 'batch'}})


def export_unet(unet, f):
    d = unet.a0.cross.k.in_features
    side = unet.sample_size
    _onnx(unet, (torch.randn(2, 4, side, side), torch.tensor([999.0, 999.0]), torch.randn(2, 77, d)), f,
          ['sample', 'timestep', 'encoder_hidden_states'], ['out_sample'],
          {'sample': HW, 'timestep': {0: 'batch'}, 'encoder_hidden_states': {0: 'batch'}, 'out_sample': HW})


def export_dec(dec, f):
    side = 64 >> dec.down
    _onnx(dec, (torch.randn(1, 4, side, side),), f, ['latent_sample'], ['sample'], {'latent_sample': HW, 'sample': HW})


def export_enc(enc, f):
    _onnx(enc, (torch.randn(1, 3, 64, 64),), f, ['sample'], ['latent_sample'], {'sample': HW, 'latent_sample': HW})


def fit_preview(enc, imgs, sf):
    """Least squares from scaled latents (what the scheduler works on) to the picture box-downscaled to the
    latent grid in [-1, 1]: rgb = latent . M + bias."""
    with torch.no_grad():
        x = torch.from_numpy(imgs).permute(0, 3, 1, 2).float().div(127.5).sub(1)
        z = enc(x) * sf
        small = F.avg_pool2d(x, 2 ** len(enc.downs))
    A = z.permute(0, 2, 3, 1).reshape(-1, 4).double().numpy()
    B = small.permute(0, 2, 3, 1).reshape(-1, 3).double().numpy()
    A1 = np.concatenate([A, np.ones((len(A), 1))], 1)
    sol, *_ = np.linalg.lstsq(A1, B, rcond=None)
    resid = float(np.sqrt(((A1 @ sol - B) ** 2).mean()))
    return [[round(float(v), 5) for v in row] for row in sol[:4]], [round(float(v), 5) for v in sol[4]], resid


def export_all(out, enc, dec, te, unet, sf, imgs, vocab, pred='epsilon'):
    for m in (enc, dec, te, unet):
        m.eval()
    d = te.ln.normalized_shape[0]
    with torch.no_grad():
        export_te(te, os.path.join(out, 'text_encoder/model.onnx'))
        export_unet(unet, os.path.join(out, 'unet/model.onnx'))
        export_dec(dec, os.path.join(out, 'vae_decoder/model.onnx'))
        export_enc(enc, os.path.join(out, 'vae_encoder/model.onnx'))
    factors, bias, resid = fit_preview(enc, imgs, sf)
    _json(os.path.join(out, 'preview.json'), {'latent_rgb_factors': factors, 'latent_rgb_bias': bias})
    print(f'preview fit rms residual {resid:.4f}')
    _json(os.path.join(out, 'model_index.json'), {
        '_class_name': 'OnnxStableDiffusionPipeline', '_diffusers_version': DIFFUSERS_VERSION,
        'feature_extractor': [None, None], 'requires_safety_checker': False, 'safety_checker': [None, None],
        'scheduler': ['diffusers', 'DDIMScheduler'], 'text_encoder': ['diffusers', 'OnnxRuntimeModel'],
        'tokenizer': ['transformers', 'CLIPTokenizer'], 'unet': ['diffusers', 'OnnxRuntimeModel'],
        'vae_decoder': ['diffusers', 'OnnxRuntimeModel'], 'vae_encoder': ['diffusers', 'OnnxRuntimeModel']})
    # SD 1.5's schedule under DDIM: PLMS (SD 1.5's own PNDM) extrapolates this small model's guided noise
    # predictions into garbage at 10-50 steps and CFG >= 5, while DDIM, Euler (a), DPM++ and UniPC draw cleanly.
    _json(os.path.join(out, 'scheduler/scheduler_config.json'), {
        '_class_name': 'DDIMScheduler', '_diffusers_version': DIFFUSERS_VERSION, 'beta_end': 0.012,
        'beta_schedule': 'scaled_linear', 'beta_start': 0.00085, 'clip_sample': False, 'num_train_timesteps': 1000,
        'prediction_type': pred, 'set_alpha_to_one': False, 'skip_prk_steps': True, 'steps_offset': 1,
        'timestep_spacing': 'leading', 'trained_betas': None})
    _json(os.path.join(out, 'text_encoder/config.json'), {
        '_name_or_path': 'shapes-64 text encoder', 'architectures': ['CLIPTextModel'], 'model_type': 'clip_text_model',
        'hidden_act': 'gelu', 'hidden_size': d, 'intermediate_size': 2 * d, 'max_position_embeddings': 77,
        'num_attention_heads': 4, 'num_hidden_layers': len(te.blocks), 'vocab_size': vocab,
        'bos_token_id': vocab - 2, 'eos_token_id': vocab - 1, 'pad_token_id': vocab - 1, 'projection_dim': d,
        'torch_dtype': 'float32', 'attention': 'bidirectional (no causal mask)'})
    unet_cfg = {
        '_class_name': 'UNet2DConditionModel', '_diffusers_version': DIFFUSERS_VERSION,
        'sample_size': unet.sample_size, 'in_channels': 4, 'out_channels': 4, 'cross_attention_dim': d,
        'attention_head_dim': 4,
        'block_out_channels': [unet.c0, unet.d1.c2.out_channels], 'layers_per_block': 1,
        'down_block_types': ['CrossAttnDownBlock2D', 'DownBlock2D'],
        'up_block_types': ['UpBlock2D', 'CrossAttnUpBlock2D'], 'mid_block_type': 'UNetMidBlock2DCrossAttn',
        'flip_sin_to_cos': True, 'freq_shift': 0, 'norm_num_groups': 8, 'act_fn': 'silu'}
    if unet.top:  # the 16x16 latent's UNet: one more level, without attention, above the others
        unet_cfg.update({'block_out_channels': [unet.top] + unet_cfg['block_out_channels'],
                         'down_block_types': ['DownBlock2D'] + unet_cfg['down_block_types'],
                         'up_block_types': unet_cfg['up_block_types'] + ['UpBlock2D']})
    _json(os.path.join(out, 'unet/config.json'), unet_cfg)
    levels = len(enc.downs) + 1  # diffusers' vae_scale_factor is 2 ** (levels - 1): 8 or 4
    vae_cfg = {
        '_class_name': 'AutoencoderKL', '_diffusers_version': DIFFUSERS_VERSION, 'in_channels': 3, 'out_channels': 3,
        'latent_channels': 4, 'sample_size': 64, 'scaling_factor': round(sf, 5),
        'block_out_channels': list(nets.AE_CH[:levels]), 'layers_per_block': 1, 'norm_num_groups': 8, 'act_fn': 'silu',
        'down_block_types': ['DownEncoderBlock2D'] * levels, 'up_block_types': ['UpDecoderBlock2D'] * levels}
    _json(os.path.join(out, 'vae_decoder/config.json'), vae_cfg)
    _json(os.path.join(out, 'vae_encoder/config.json'), vae_cfg)
    sizes = {p: os.path.getsize(os.path.join(out, p, 'model.onnx'))
             for p in ('text_encoder', 'unet', 'vae_decoder', 'vae_encoder')}
    print('onnx bytes', sizes, 'total', sum(sizes.values()))


def main():
    """Export a run's checkpoints (W/ae.pt, W/unet.pt): train.py calls this with Debian's torch 1.13 (the exporter
    that wrote the committed ONNX files) when it trains under another torch."""
    import argparse
    import data
    ap = argparse.ArgumentParser()
    ap.add_argument('--work', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--ae', default='ae.pt', help='the autoencoder checkpoint in --work (train.py\'s stage 3 writes ae-final.pt)')
    ap.add_argument('--unet', default='unet.pt', help='the checkpoint in --work to export (unet-phaseK.pt: one saved mid-phase)')
    a = ap.parse_args()
    ae = torch.load(os.path.join(a.work, a.ae))
    ck = torch.load(os.path.join(a.work, a.unet))
    enc, dec = nets.encoder_for(ae['enc']), nets.decoder_for(ae['dec'])
    te, unet = nets.TextEncoder(ck['vocab']), nets.UNet(top=nets.unet_top(ck['unet']))
    te.load_state_dict(ck['te'])
    unet.load_state_dict(ck['unet'])
    imgs, _, _ = data.make_dataset(4000, a.seed)  # the first 4,000 pictures of the run's draw
    export_all(a.out, enc, dec, te, unet, ck['sf'], imgs, ck['vocab'], ck.get('pred', 'epsilon'))


if __name__ == '__main__':
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
