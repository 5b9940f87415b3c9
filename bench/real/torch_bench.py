#!/usr/bin/env python3
"""
The PyTorch / ONNX Runtime (Python) side of `npm run bench:real` (issue 15); each call prints one JSON line.

  torch_bench.py unet   --diffusers-src DIR --torch-dir DIR --steps N --threads T --size PX
        diffusers' UNet2DConditionModel (the same random weights as the ONNX export) on the CFG batch 2×4×h×w,
        float32 CPU, torch.no_grad: each call's ms, load ms, peak RSS of the process.
  torch_bench.py vae    --diffusers-src DIR --torch-dir DIR --threads T --size PX
        AutoencoderKL.decode of one latent: ms, peak RSS.
  torch_bench.py flops  --diffusers-src DIR --torch-dir DIR --size PX
        FLOPs of one UNet call on batch 2 (torch.utils.flop_counter: 2 per multiply-add of convolutions and matmuls).
  torch_bench.py matmul --threads T [--n 4096]
        this machine's fp32 MatMul rate in ONNX Runtime (a one-node n×n · n×n graph, the engine's session options).
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('what', choices=['unet', 'vae', 'flops', 'matmul'])
    ap.add_argument('--diffusers-src')
    ap.add_argument('--torch-dir')
    ap.add_argument('--steps', type=int, default=4)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--size', type=int, default=512)
    ap.add_argument('--n', type=int, default=4096)
    ap.add_argument('--device', default='cpu', help='cpu, or cuda for --provider cuda')
    a = ap.parse_args()
    if a.what == 'matmul':
        return matmul(a)
    sys.path.insert(0, str(Path(a.diffusers_src).resolve()))
    import torch
    import diffusers as D
    torch.set_num_threads(a.threads)
    l = a.size // 8
    t0 = time.perf_counter()
    if a.what in ('unet', 'flops'):
        unet = D.UNet2DConditionModel.from_pretrained(Path(a.torch_dir) / 'unet_sd15').eval().to(a.device)
        load_ms = (time.perf_counter() - t0) * 1000
        g = torch.Generator().manual_seed(0)
        sample = torch.randn(2, 4, l, l, generator=g).to(a.device)
        hidden = torch.randn(2, 77, unet.config.cross_attention_dim, generator=g).to(a.device)
        if a.what == 'flops':
            from torch.utils.flop_counter import FlopCounterMode
            with torch.no_grad(), FlopCounterMode(display=False) as fc:
                unet(sample, torch.tensor(999.0), hidden)
            by_op = {str(k): v for k, v in fc.get_flop_counts().get('Global', {}).items()}
            print(json.dumps({'flops': fc.get_total_flops(), 'byOp': by_op}))
            return
        step_ms = []
        with torch.no_grad():
            for s in range(a.steps):
                t = time.perf_counter()
                unet(sample, torch.tensor(float(999 - s)), hidden)
                if a.device == 'cuda':
                    torch.cuda.synchronize()
                step_ms.append((time.perf_counter() - t) * 1000)
        print(json.dumps({'loadMs': load_ms, 'stepMs': step_ms, 'peakRssBytes': peak_rss(), 'torch': torch.__version__}))
    else:
        vae = D.AutoencoderKL.from_pretrained(Path(a.torch_dir) / 'vae').eval().to(a.device)
        z = torch.randn(1, 4, l, l, generator=torch.Generator().manual_seed(0)).to(a.device)
        with torch.no_grad():
            t = time.perf_counter()
            vae.decode(z / vae.config.scaling_factor)
            ms = (time.perf_counter() - t) * 1000
        print(json.dumps({'ms': ms, 'peakRssBytes': peak_rss()}))


def matmul(a) -> None:
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper
    n = a.n
    graph = helper.make_graph([helper.make_node('MatMul', ['a', 'b'], ['c'])], 'mm',
                              [helper.make_tensor_value_info('a', TensorProto.FLOAT, [n, n]),
                               helper.make_tensor_value_info('b', TensorProto.FLOAT, [n, n])],
                              [helper.make_tensor_value_info('c', TensorProto.FLOAT, [n, n])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 18)])
    model.ir_version = 9
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.enable_mem_pattern = False
    so.add_session_config_entry('session.intra_op.allow_spinning', '0')
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=['CPUExecutionProvider'])
    x = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    sess.run(None, {'a': x, 'b': x})
    times = []
    for _ in range(3):
        t = time.perf_counter()
        sess.run(None, {'a': x, 'b': x})
        times.append(time.perf_counter() - t)
    best = min(times)
    print(json.dumps({'n': n, 'seconds': times, 'gflops': 2 * n ** 3 / best / 1e9, 'onnxruntime': ort.__version__}))


if __name__ == '__main__':
    main()
