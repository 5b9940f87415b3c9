/**
 * up · down for LoRA layers, computed by ONNX Runtime's Gemm (its multithreaded SGEMM) instead of JavaScript loops:
 * a rank-32 LoRA over SD 1.5's UNet and text encoder is ~20 G multiply-adds. Two one-node graphs built here:
 * `up · down` ([out, inner], torch's layout) and `downᵀ · upᵀ` ([inner, out], a MatMul weight's layout).
 * Protobuf field numbers from onnx/onnx.proto3 (ModelProto ir_version 1, graph 7, opset_import 8; GraphProto node 1,
 * name 2, input 11, output 12; NodeProto input 1, output 2, op_type 4, attribute 5; AttributeProto name 1, i 3,
 * type 20; ValueInfoProto name 1, type 2; TypeProto tensor_type 1; Tensor elem_type 1, shape 2; dim 1, dim_param 2).
 */
import { concat, encodeVarint, lengthDelimited } from '../model';
import { createSession, type OnnxSession } from '../onnx';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const varintField = (num: number, value: number): Uint8Array => new Uint8Array([...encodeVarint(num * 8), ...encodeVarint(value)]);

function valueInfo(name: string, dims: readonly string[]): Uint8Array {
  const shape = concat(dims.map((d) => lengthDelimited(1, lengthDelimited(2, utf8(d)))));
  const tensor = concat([varintField(1, 1), lengthDelimited(2, shape)]);
  return concat([lengthDelimited(1, utf8(name)), lengthDelimited(2, lengthDelimited(1, tensor))]);
}

/** A model computing Y = Gemm(A, B) with transA = transB = `trans`. */
export function gemmModel(trans: boolean): Uint8Array {
  const attr = (name: string, value: number): Uint8Array => lengthDelimited(5, concat([lengthDelimited(1, utf8(name)), varintField(3, value), varintField(20, 2)]));
  const node = concat([lengthDelimited(1, utf8('A')), lengthDelimited(1, utf8('B')), lengthDelimited(2, utf8('Y')),
    lengthDelimited(4, utf8('Gemm')), attr('transA', trans ? 1 : 0), attr('transB', trans ? 1 : 0)]);
  const graph = concat([lengthDelimited(1, node), lengthDelimited(2, utf8('lora')),
    lengthDelimited(11, valueInfo('A', ['a0', 'a1'])), lengthDelimited(11, valueInfo('B', ['b0', 'b1'])),
    lengthDelimited(12, valueInfo('Y', ['y0', 'y1']))]);
  const opset = concat([lengthDelimited(1, utf8('')), varintField(2, 13)]);
  return concat([varintField(1, 8), lengthDelimited(7, graph), lengthDelimited(8, opset)]);
}

/** up [out, rank] · down [rank, inner] in the layout asked for, on ONNX Runtime's CPU provider. */
export class LowRankProduct {
  private sessions: Promise<[OnnxSession, OnnxSession]> | undefined;

  private open(): Promise<[OnnxSession, OnnxSession]> {
    this.sessions ??= Promise.all([false, true].map((t) =>
      createSession(`lora-gemm${t ? '-t' : ''}.onnx`, { executionProvider: 'cpu', bytes: gemmModel(t) }))) as Promise<[OnnxSession, OnnxSession]>;
    return this.sessions;
  }

  async product(up: Float32Array, down: Float32Array, out: number, rank: number, inner: number, transposed: boolean): Promise<Float32Array> {
    const [plain, trans] = await this.open();
    const result = transposed
      ? await trans.run({ A: { type: 'float32', data: down, dims: [rank, inner] }, B: { type: 'float32', data: up, dims: [out, rank] } })
      : await plain.run({ A: { type: 'float32', data: up, dims: [out, rank] }, B: { type: 'float32', data: down, dims: [rank, inner] } });
    return result.Y.data as Float32Array;
  }

  async release(): Promise<void> {
    const s = await this.sessions?.catch(() => undefined);
    this.sessions = undefined;
    await Promise.all((s ?? []).map((x) => x.release()));
  }
}
