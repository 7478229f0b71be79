// Many file paths under one root, packed: the UTF-8 bytes of every relative path in one buffer and
// their end offsets in another. A million files cost about their paths' bytes plus 4 bytes each,
// instead of a JS string and an array slot per file (a garbage-collected heap that grows with the
// dataset); a path becomes a string only when its file is read.
import path from 'node:path';

export class PathTable implements Iterable<string> {
  /** ends[i] is where path i's bytes end in bytes (path i starts at ends[i - 1], or 0); see PathTableBuilder. */
  constructor(readonly root: string, private readonly bytes: Buffer, private readonly ends: Uint32Array) {}

  /** Paths relative to root (or absolute, which path.resolve keeps as they are). */
  static from(root: string, relative: Iterable<string>): PathTable {
    const builder = new PathTableBuilder(root);
    for (const p of relative) builder.push(p);
    return builder.finish();
  }

  /** The form `joined()` writes: relative paths separated by NUL, the one byte no path holds. */
  static fromJoined(root: string, joined: string): PathTable {
    const builder = new PathTableBuilder(root);
    if (joined === '') return builder.finish();
    const bytes = Buffer.from(joined, 'utf8');
    let start = 0;
    for (let i = bytes.indexOf(0); i !== -1; start = i + 1, i = bytes.indexOf(0, start)) builder.pushBytes(bytes.subarray(start, i));
    builder.pushBytes(bytes.subarray(start));
    return builder.finish();
  }

  get length(): number {
    return this.ends.length;
  }

  /** Path i as stored (relative to root, unless it was given absolute). */
  relative(i: number): string {
    if (!(i >= 0 && i < this.ends.length)) throw new RangeError(`PathTable: index ${i} is outside 0…${this.ends.length - 1}`);
    return this.bytes.toString('utf8', i === 0 ? 0 : this.ends[i - 1]!, this.ends[i]!);
  }

  /** The absolute path of file i. */
  at(i: number): string {
    return path.resolve(this.root, this.relative(i));
  }

  *[Symbol.iterator](): Iterator<string> {
    for (let i = 0; i < this.ends.length; i++) yield this.at(i);
  }

  /** The paths at `indices`, in that order. */
  subset(indices: ArrayLike<number>): PathTable {
    const builder = new PathTableBuilder(this.root);
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k]!;
      if (!(i >= 0 && i < this.ends.length)) throw new RangeError(`PathTable: index ${i} is outside 0…${this.ends.length - 1}`);
      builder.pushBytes(this.bytes.subarray(i === 0 ? 0 : this.ends[i - 1]!, this.ends[i]!));
    }
    return builder.finish();
  }

  /** The relative paths separated by NUL (what the index cache stores). */
  joined(): string {
    const parts: string[] = [];
    for (let i = 0; i < this.ends.length; i++) parts.push(this.relative(i));
    return parts.join('\0');
  }

  /** Memory the table holds. */
  get byteLength(): number {
    return this.bytes.byteLength + this.ends.byteLength;
  }
}

/** Appends paths to a growing buffer (doubling), then trims it to a PathTable. */
export class PathTableBuilder {
  private bytes = Buffer.allocUnsafe(4096);
  private ends = new Uint32Array(256);
  private used = 0;
  private count = 0;
  constructor(readonly root: string) {}

  push(relative: string): void {
    if (relative.includes('\0')) throw new RangeError(`a path cannot hold a NUL byte: ${JSON.stringify(relative)}`);
    const need = Buffer.byteLength(relative, 'utf8');
    this.reserve(need);
    this.bytes.write(relative, this.used, 'utf8');
    this.end(need);
  }

  pushBytes(utf8: Uint8Array): void {
    this.reserve(utf8.length);
    this.bytes.set(utf8, this.used);
    this.end(utf8.length);
  }

  private reserve(need: number): void {
    if (this.used + need > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.used + need));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    if (this.count === this.ends.length) {
      const grown = new Uint32Array(2 * this.ends.length);
      grown.set(this.ends);
      this.ends = grown;
    }
  }

  private end(written: number): void {
    this.used += written;
    if (this.used > 0xffffffff) throw new RangeError('PathTable: paths over 4 GiB');
    this.ends[this.count++] = this.used;
  }

  get length(): number {
    return this.count;
  }

  finish(): PathTable {
    // Copies, so the table holds exactly its bytes rather than the doubled buffer.
    return new PathTable(this.root, Buffer.from(this.bytes.subarray(0, this.used)), this.ends.slice(0, this.count));
  }
}
