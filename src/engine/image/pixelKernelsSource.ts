/**
 * The source of src/engine/image/pixelKernels.ts's WebAssembly module, written with a minimal assembler of the
 * WebAssembly 1.0 binary format. Not loaded at run time (assembling costs ~1 ms of interpreted JS a start): the
 * engine carries the bytes as base64 in PIXEL_KERNELS_WASM, and test/engine/image/pixelKernels.test.ts checks that they
 * are exactly what this file assembles (and prints the new base64 when a change here needs it).
 */

const I32 = 0x7f;
const F32 = 0x7d;
const VOID = 0x40;
const OP = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d, call: 0x10, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  f32Load: 0x2a, i32Load8U: 0x2d, i32Store8: 0x3a, i32Const: 0x41, f32Const: 0x43,
  i32GeS: 0x4e, i32GeU: 0x4f, i32GtS: 0x4a, i32LeS: 0x4c, f32Ge: 0x60,
  i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32And: 0x71, i32Shl: 0x74,
  f32Nearest: 0x90, f32Add: 0x92, f32Mul: 0x94, f32Min: 0x96, i32TruncF32U: 0xa9,
} as const;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const get = (i: number): number[] => [OP.localGet, ...uleb(i)];
const set = (i: number): number[] => [OP.localSet, ...uleb(i)];
const i32 = (v: number): number[] => [OP.i32Const, ...sleb(v)];
const f32 = (v: number): number[] => [OP.f32Const, ...new Uint8Array(Float32Array.of(v).buffer)];
/** memarg: alignment exponent, then offset. */
const mem = (op: number, align: number, offset = 0): number[] => [op, ...uleb(align), ...uleb(offset)];
/** Body of a function: local declarations (one group per entry: count, type), code, end. */
const body = (locals: Array<[number, number]>, code: number[]): number[] => {
  const inner = [...vec(locals.map(([count, type]) => [...uleb(count), type])), ...code, OP.end];
  return [...uleb(inner.length), ...inner];
};
/** `(if (result i32) cond (then ...) (else i32.const 0))`: a load only where it is in bounds. */
const orZero = (cond: number[], value: number[]): number[] => [...cond, OP.if, I32, ...value, OP.else, ...i32(0), OP.end];

// Function 0, byte(v: f32) → i32, diffusers' postprocess of one value: ((v·0.5 + 0.5).clamp(0, 1)·255).round()
// with round half to even; NaN becomes 0 (numpy's astype(uint8) of NaN is undefined; 0 is what this engine writes).
const BYTE_FN = body([], [
  ...get(0), ...f32(0.5), OP.f32Mul, ...f32(0.5), OP.f32Add, ...set(0), // x = v·0.5 + 0.5
  ...get(0), ...f32(0), ...get(0), ...f32(0), OP.f32Ge, OP.select, // x ≥ 0 ? x : 0 (NaN fails ≥)
  ...f32(1), OP.f32Min, // min(x, 1)
  ...f32(255), OP.f32Mul, OP.f32Nearest, OP.i32TruncF32U,
]);

// Function 1, rgb(src, dst, plane): planes R, G, B of `plane` f32 values at src → interleaved bytes at dst.
// Locals: 3 p, 4 in (address of the R value of pixel p), 5 out (address of pixel p's 3 bytes).
const RGB_FN = body([[3, I32]], [
  OP.block, VOID, OP.loop, VOID,
  ...get(3), ...get(2), OP.i32GeU, OP.brIf, 1,
  ...get(0), ...get(3), ...i32(2), OP.i32Shl, OP.i32Add, ...set(4),
  ...get(1), ...get(3), ...i32(3), OP.i32Mul, OP.i32Add, ...set(5),
  ...get(5), ...get(4), ...mem(OP.f32Load, 2), OP.call, 0, ...mem(OP.i32Store8, 0, 0),
  ...get(5), ...get(4), ...get(2), ...i32(2), OP.i32Shl, OP.i32Add, ...mem(OP.f32Load, 2), OP.call, 0, ...mem(OP.i32Store8, 0, 1),
  ...get(5), ...get(4), ...get(2), ...i32(3), OP.i32Shl, OP.i32Add, ...mem(OP.f32Load, 2), OP.call, 0, ...mem(OP.i32Store8, 0, 2),
  ...get(3), ...i32(1), OP.i32Add, ...set(3),
  OP.br, 0, OP.end, OP.end,
]);

// Function 2, abs(x: i32) → i32.
const ABS_FN = body([], [...get(0), ...i32(0), ...get(0), OP.i32Sub, ...get(0), ...i32(0), OP.i32GeS, OP.select]);

// Function 3, paeth(src, dst, width, height): RGB rows at src → per row filter type 4 then the Paeth differences
// (PNG spec 9.4: the neighbour a (left), b (up) or c (up-left) closest to a + b − c; missing neighbours are 0).
// Locals: 4 stride, 5 y, 6 i, 7 row, 8 out, 9 a, 10 b, 11 c, 12 pa, 13 pb, 14 pc.
const [STRIDE, Y, I, ROW, OUT, A, B, C, PA, PB, PC] = [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
const PAETH_FN = body([[11, I32]], [
  ...get(2), ...i32(3), OP.i32Mul, ...set(STRIDE),
  OP.block, VOID, OP.loop, VOID,
  ...get(Y), ...get(3), OP.i32GeS, OP.brIf, 1,
  ...get(0), ...get(Y), ...get(STRIDE), OP.i32Mul, OP.i32Add, ...set(ROW),
  ...get(1), ...get(Y), ...get(STRIDE), ...i32(1), OP.i32Add, OP.i32Mul, OP.i32Add, OP.localTee, OUT, ...i32(4), ...mem(OP.i32Store8, 0),
  ...get(OUT), ...i32(1), OP.i32Add, ...set(OUT),
  ...i32(0), ...set(I),
  OP.block, VOID, OP.loop, VOID,
  ...get(I), ...get(STRIDE), OP.i32GeS, OP.brIf, 1,
  ...orZero([...get(I), ...i32(3), OP.i32GeS], [...get(ROW), ...get(I), OP.i32Add, ...i32(3), OP.i32Sub, ...mem(OP.i32Load8U, 0)]), ...set(A),
  ...orZero([...get(Y), ...i32(0), OP.i32GtS], [...get(ROW), ...get(STRIDE), OP.i32Sub, ...get(I), OP.i32Add, ...mem(OP.i32Load8U, 0)]), ...set(B),
  ...orZero([...get(I), ...i32(3), OP.i32GeS, ...get(Y), ...i32(0), OP.i32GtS, OP.i32And],
    [...get(ROW), ...get(STRIDE), OP.i32Sub, ...get(I), OP.i32Add, ...i32(3), OP.i32Sub, ...mem(OP.i32Load8U, 0)]), ...set(C),
  ...get(B), ...get(C), OP.i32Sub, OP.call, 2, ...set(PA), // |p − a| = |b − c|
  ...get(A), ...get(C), OP.i32Sub, OP.call, 2, ...set(PB), // |p − b| = |a − c|
  ...get(A), ...get(B), OP.i32Add, ...get(C), ...i32(1), OP.i32Shl, OP.i32Sub, OP.call, 2, ...set(PC), // |a + b − 2c|
  ...get(OUT), ...get(I), OP.i32Add, // address of the output byte
  ...get(ROW), ...get(I), OP.i32Add, ...mem(OP.i32Load8U, 0), // this byte
  ...get(A), // pa ≤ pb and pa ≤ pc: a; else pb ≤ pc: b; else c
  ...get(B), ...get(C), ...get(PB), ...get(PC), OP.i32LeS, OP.select,
  ...get(PA), ...get(PB), OP.i32LeS, ...get(PA), ...get(PC), OP.i32LeS, OP.i32And, OP.select,
  OP.i32Sub, ...mem(OP.i32Store8, 0),
  ...get(I), ...i32(1), OP.i32Add, ...set(I),
  OP.br, 0, OP.end, OP.end,
  ...get(Y), ...i32(1), OP.i32Add, ...set(Y),
  OP.br, 0, OP.end, OP.end,
]);

const name = (s: string): number[] => vec(Array.from(s, (ch) => [ch.charCodeAt(0)]));

/** The module's bytes: exports memory, rgb (function 1) and paeth (function 3). */
export function kernelModuleBytes(): Uint8Array {
  const types = [
    [0x60, ...vec([[F32]]), ...vec([[I32]])], // 0: (f32) → i32
    [0x60, ...vec([[I32], [I32], [I32]]), ...vec([])], // 1: (i32, i32, i32) → ()
    [0x60, ...vec([[I32]]), ...vec([[I32]])], // 2: (i32) → i32
    [0x60, ...vec([[I32], [I32], [I32], [I32]]), ...vec([])], // 3: (i32, i32, i32, i32) → ()
  ];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(3, vec([[0], [1], [2], [3]])),
    ...section(5, vec([[0x00, 1]])), // one memory, 1 page to start, no maximum
    ...section(7, vec([[...name('memory'), 0x02, 0], [...name('rgb'), 0x00, 1], [...name('paeth'), 0x00, 3]])),
    ...section(10, vec([BYTE_FN, RGB_FN, ABS_FN, PAETH_FN])),
  ]);
}

