// A protocol-buffers reader for tests: the fields of one message by number, so a test can look
// inside what src/io/protobuf.ts wrote without a protobuf library.

export type ProtoField = { wire: 0; value: bigint } | { wire: 2; bytes: Uint8Array } | { wire: 5; value: number };

export function readMessage(bytes: Uint8Array): Map<number, ProtoField[]> {
  const fields = new Map<number, ProtoField[]>();
  let pos = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (pos >= bytes.length) throw new RangeError('truncated varint');
      const b = bytes[pos++];
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
  };
  while (pos < bytes.length) {
    const key = Number(varint());
    const field = key >> 3;
    let f: ProtoField;
    switch (key & 7) {
      case 0: f = { wire: 0, value: varint() }; break;
      case 2: {
        const n = Number(varint());
        if (pos + n > bytes.length) throw new RangeError(`field ${field} runs past the end`);
        f = { wire: 2, bytes: bytes.subarray(pos, pos + n) };
        pos += n;
        break;
      }
      case 5: f = { wire: 5, value: Buffer.from(bytes.buffer, bytes.byteOffset + pos, 4).readFloatLE() }; pos += 4; break;
      default: throw new RangeError(`unexpected wire type ${key & 7} for field ${field}`);
    }
    fields.set(field, [...(fields.get(field) ?? []), f]);
  }
  return fields;
}

export function text(f: ProtoField | undefined): string {
  if (f?.wire !== 2) throw new TypeError('not a length-delimited field');
  return Buffer.from(f.bytes).toString('utf8');
}

export function int(f: ProtoField | undefined): bigint {
  if (f?.wire !== 0) throw new TypeError('not a varint field');
  return f.value;
}

export function sub(f: ProtoField | undefined): Map<number, ProtoField[]> {
  if (f?.wire !== 2) throw new TypeError('not a message field');
  return readMessage(f.bytes);
}

/** ModelProto.metadata_props (field 14) as a plain object. */
export function onnxMetadata(model: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readMessage(model).get(14) ?? []) {
    const kv = sub(entry);
    out[text(kv.get(1)?.[0])] = text(kv.get(2)?.[0]);
  }
  return out;
}
