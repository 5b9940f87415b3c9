"""Issue 15 item 4, by hand: two variants of bench:real's fp16 UNet (onnxruntime's converter) for bench/real/memProbe.ts.

  fp16_variants.py fixed  SRC_UNET_ONNX DST_UNET_ONNX   the fp16 graph with the float16 `scales` feeding Resize put back
                                                       to float32 (ONNX Runtime refuses the converter's graph without)
  fp16_variants.py upcast SRC_UNET_ONNX DST_UNET_ONNX   every float16 initializer, Constant, Cast target and graph
                                                       input/output as float32, weights in one external data file
Needs onnx and numpy; the upcast of SD 1.5's UNet takes ~20 s and ~5 GB here.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper


def to_float32(t):
    if t.data_type == TensorProto.FLOAT16:
        t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float32), t.name))
        return True
    return False


def fixed(m):
    g = m.graph
    producer = {o: n for n in g.node for o in n.output}
    inits = {t.name: t for t in g.initializer}
    count = 0
    for n in g.node:
        if n.op_type != 'Resize' or len(n.input) < 3 or not n.input[2]:
            continue
        p = producer.get(n.input[2])
        if p is not None and p.op_type == 'Constant':
            count += to_float32(p.attribute[0].t)
        elif n.input[2] in inits:
            count += to_float32(inits[n.input[2]])
    return count


def upcast(m):
    g = m.graph
    count = sum(to_float32(t) for t in g.initializer)
    for n in g.node:
        for a in n.attribute:
            if n.op_type == 'Cast' and a.name == 'to' and a.i == TensorProto.FLOAT16:
                a.i = TensorProto.FLOAT
            if a.type == onnx.AttributeProto.TENSOR:
                count += to_float32(a.t)
    for v in list(g.input) + list(g.output) + list(g.value_info):
        if v.type.tensor_type.elem_type == TensorProto.FLOAT16:
            v.type.tensor_type.elem_type = TensorProto.FLOAT
    return count


def main():
    mode, src, dst = sys.argv[1:4]
    m = onnx.load(src)
    count = {'fixed': fixed, 'upcast': upcast}[mode](m)
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    if mode == 'upcast':
        onnx.save(m, dst, save_as_external_data=True, all_tensors_to_one_file=True, location='model.onnx_data', size_threshold=1024)
    else:
        onnx.save(m, dst)
    print(f'{mode}: {count} tensors to float32 -> {dst}')


if __name__ == '__main__':
    main()
