/**
 * The protobuf wire format as far as ONNX files need it (onnx/onnx.proto3): the fields of a message in a byte range,
 * varints, length-delimited fields, and the bytes of a new length-delimited field. Offsets are numbers: files up to
 * 2^53 bytes (ONNX's own protobuf limit is 2 GiB per file).
 */

export interface Field { readonly num: number; readonly wire: number; readonly start: number; readonly end: number; readonly dataStart: number }

export function readVarint(buf: Uint8Array, pos: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (let k = 0; k < 10; k++) {
    if (pos >= buf.length) throw new Error('truncated protobuf varint');
    const byte = buf[pos++];
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return [value, pos];
    scale *= 128;
  }
  throw new Error('malformed protobuf varint');
}

/** The fields of one protobuf message in buf[start, end). */
export function* fields(buf: Uint8Array, start: number, end: number): Generator<Field> {
  let pos = start;
  while (pos < end) {
    const fieldStart = pos;
    const [tag, afterTag] = readVarint(buf, pos);
    const num = Math.floor(tag / 8);
    const wire = tag % 8;
    let dataStart = afterTag;
    switch (wire) {
      case 0: pos = readVarint(buf, afterTag)[1]; break;
      case 1: pos = afterTag + 8; break;
      case 5: pos = afterTag + 4; break;
      case 2: {
        const [length, afterLength] = readVarint(buf, afterTag);
        dataStart = afterLength;
        pos = afterLength + length;
        break;
      }
      default: throw new Error(`unsupported protobuf wire type ${wire}`);
    }
    if (pos > end) throw new Error('truncated protobuf field');
    yield { num, wire, start: fieldStart, end: pos, dataStart };
  }
}

const UTF8 = new TextDecoder();
export const text = (buf: Uint8Array, f: Field): string => UTF8.decode(buf.subarray(f.dataStart, f.end));

/** A StringStringEntryProto (ONNX's external-data `location` / `offset` / `length` entries): [key, value]. */
export function stringEntry(buf: Uint8Array, f: Field): [key: string, value: string] {
  let key = '';
  let value = '';
  for (const h of fields(buf, f.dataStart, f.end)) {
    if (h.num === 1 && h.wire === 2) key = text(buf, h);
    else if (h.num === 2 && h.wire === 2) value = text(buf, h);
  }
  return [key, value];
}

export function encodeVarint(value: number): number[] {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

export function lengthDelimited(num: number, payload: Uint8Array): Uint8Array {
  const head = [...encodeVarint(num * 8 + 2), ...encodeVarint(payload.length)];
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
