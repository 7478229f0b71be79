// A protocol-buffers encoder for the few wire types ONNX needs: varints (int32/int64/enum),
// 32-bit floats, length-delimited strings, bytes and nested messages, and packed repeated
// scalars. A message is a list of byte chunks, so large tensors are never copied to nest them.

const enum WireType {
  Varint = 0,
  LengthDelimited = 2,
  Fixed32 = 5,
}

export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private pending: number[] = [];
  private length_ = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.length_ + this.pending.length;
  }

  /** The encoded message as chunks (for a file writer) ... */
  finish(): Uint8Array[] {
    this.flush();
    return this.chunks;
  }

  /** ... or as one buffer. */
  toBytes(): Uint8Array {
    return Buffer.concat(this.finish());
  }

  private flush(): void {
    if (!this.pending.length) return;
    this.chunks.push(Uint8Array.from(this.pending));
    this.length_ += this.pending.length;
    this.pending = [];
  }

  private append(bytes: Uint8Array): void {
    this.flush();
    if (bytes.length) this.chunks.push(bytes);
    this.length_ += bytes.length;
  }

  /** Unsigned LEB128; negative int64 values are sent as their 64-bit two's complement (10 bytes). */
  private varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    if (v < 0x80n && typeof value === 'number') {
      this.pending.push(Number(v));
      return;
    }
    while (v >= 0x80n) {
      this.pending.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.pending.push(Number(v));
  }

  private tag(field: number, wire: WireType): void {
    this.varint((field << 3) | wire);
  }

  /** int32, int64, uint64, bool and enum fields. */
  int(field: number, value: number | bigint): this {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new RangeError(`protobuf field ${field}: ${value} is not an integer`);
    this.tag(field, WireType.Varint);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WireType.Fixed32);
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.pending.push(...b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WireType.LengthDelimited);
    this.varint(value.length);
    this.append(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  message(field: number, message: ProtoWriter): this {
    const chunks = message.finish();
    this.tag(field, WireType.LengthDelimited);
    this.varint(message.length);
    for (const c of chunks) this.append(c);
    return this;
  }

  /** A packed repeated varint field (proto3's default for repeated scalars). */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    return this.bytes(field, inner.toBytes());
  }

  /** A packed repeated float field. */
  packedFloats(field: number, values: readonly number[]): this {
    return this.bytes(field, new Uint8Array(Float32Array.from(values).buffer));
  }
}
