"""Load the torch modules of nets.py from ONNX files that export.py wrote (so a run can go on from a committed
model, e.g. reuse its autoencoder): a copy of the module with distinct values in every parameter is exported the
same way, and each initializer of that export is matched to the parameter it came from (as is, transposed — Linear
weights become MatMul operands — or reshaped — GroupNorm's affine becomes a Mul/Add by C x 1 x 1). The graphs must
be the same, i.e. the same torch version (Debian's python3-torch 1.13 exported models/shapes-64) and nets.py."""
import copy
import io

import numpy as np
import onnx
import torch
from onnx import numpy_helper


def _inits(model_bytes_or_path):
    m = onnx.load(model_bytes_or_path) if isinstance(model_bytes_or_path, str) else onnx.load_from_string(model_bytes_or_path)
    return [(i.name, numpy_helper.to_array(i)) for i in m.graph.initializer]


def load(module, onnx_path, export_fn):
    """module: a fresh nets module; export_fn(module, file_like): exports it as export.py does. Returns module
    with the weights of onnx_path."""
    probe = copy.deepcopy(module)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in probe.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    buf = io.BytesIO()
    export_fn(probe, buf)
    probe_inits = dict(_inits(buf.getvalue()))
    real = dict(_inits(onnx_path))
    if set(probe_inits) != set(real):
        raise ValueError(f'{onnx_path}: initializers differ from a fresh export (other torch version or nets.py?)')
    sd = {}
    for pname, p in probe.named_parameters():
        v = p.detach().numpy()
        hit = None
        for iname, arr in probe_inits.items():
            if arr.size != v.size:
                continue
            if arr.shape == v.shape and np.array_equal(arr, v):
                hit = (iname, lambda a: a)
            elif v.ndim == 2 and arr.shape == v.T.shape and np.array_equal(arr, v.T):
                hit = (iname, lambda a: a.T)
            elif np.array_equal(arr.reshape(-1), v.reshape(-1)):
                hit = (iname, lambda a, s=v.shape: a.reshape(s))
            if hit:
                break
        if hit is None:
            raise ValueError(f'{onnx_path}: no initializer for {pname}')
        sd[pname] = torch.from_numpy(np.ascontiguousarray(hit[1](real[hit[0]])).copy())
    buffers = dict(module.named_buffers())
    if buffers:
        raise ValueError(f'buffers are not handled: {list(buffers)}')
    module.load_state_dict(sd)
    return module.eval()


def load_decoder(onnx_path, nets, export, down=3):
    """The decoder of onnx_path, with whichever extra blocks (train.py's --decoder-extra) its graph holds."""
    import itertools
    for k in range(4):
        for extra in itertools.combinations((16, 32, 64), k):
            try:
                return load(nets.Decoder(extra, down), onnx_path, export.export_dec)
            except ValueError:
                continue
    raise ValueError(f'{onnx_path}: initializers differ from a fresh export of every decoder of nets.py '
                     '(other torch version or nets.py?)')


def load_autoencoder(model, nets, export):
    """The encoder and decoder of a model folder export.py wrote (an 8x8 or 16x16 latent: its VAE config says)."""
    import json
    import os
    with open(os.path.join(model, 'vae_encoder/config.json')) as f:
        down = len(json.load(f)['block_out_channels']) - 1
    enc = load(nets.Encoder(down), os.path.join(model, 'vae_encoder/model.onnx'), export.export_enc)
    return enc, load_decoder(os.path.join(model, 'vae_decoder/model.onnx'), nets, export, down)


def main():
    """python3 from_onnx.py MODEL_DIR WORK: writes WORK/ae.pt and WORK/unet-init.pt from MODEL_DIR's ONNX files."""
    import json
    import os
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import export
    import nets
    model, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    vocab = json.load(open(os.path.join(model, 'text_encoder/config.json')))['vocab_size']
    widths = json.load(open(os.path.join(model, 'unet/config.json')))['block_out_channels']
    top = widths[0] if len(widths) == 3 else 0  # export.py: a 16x16 latent's UNet has a third, top level
    with torch.no_grad():
        enc, dec = load_autoencoder(model, nets, export)
        te = load(nets.TextEncoder(vocab), os.path.join(model, 'text_encoder/model.onnx'), export.export_te)
        unet = load(nets.UNet(top=top), os.path.join(model, 'unet/model.onnx'), export.export_unet)
    torch.save({'enc': enc.state_dict(), 'dec': dec.state_dict()}, os.path.join(work, 'ae.pt'))
    torch.save({'te': te.state_dict(), 'unet': unet.state_dict()}, os.path.join(work, 'unet-init.pt'))
    print('imported', model, '->', work)


if __name__ == '__main__':
    main()
