// A seeded mutation engine in the style of libFuzzer's: stacked byte-level mutations (bit flips,
// interesting integers, ranges deleted, inserted, duplicated or spliced from another input) and
// one aware of text numbers, since several formats keep their sizes in JSON or ASCII.
import type { Random } from '../helpers/seeded-random.js';

const below = (random: Random, n: number) => Math.floor(random() * n);

const INTERESTING = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 2 ** 40, 2 ** 53 - 1];
const INTERESTING_TEXT = ['0', '1', '-1', '3', '8', '1e309', '-0', '1.5', '4294967296', '18446744073709551615', '9007199254740993', 'NaN', '', '""', 'null', '[]', '{}'];

function writeInteresting(out: Uint8Array, random: Random): void {
  const width = [1, 2, 4, 8][below(random, 4)]!;
  if (out.length < width) return;
  const pos = below(random, out.length - width + 1);
  let value = BigInt(INTERESTING[below(random, INTERESTING.length)]!);
  if (random() < 0.3) value = -value;
  const bytes = new Uint8Array(8);
  const little = random() < 0.5;
  new DataView(bytes.buffer).setBigUint64(0, BigInt.asUintN(64, value), little);
  // The low bytes of a little-endian value come first, of a big-endian one last.
  out.set(little ? bytes.subarray(0, width) : bytes.subarray(8 - width), pos);
}

/** Replaces one run of ASCII digits (a size, an offset, a count) with another number. */
function replaceTextNumber(input: Uint8Array, random: Random): Uint8Array {
  const runs: [number, number][] = [];
  for (let i = 0; i < input.length && runs.length < 256; i++) {
    if (input[i]! >= 0x30 && input[i]! <= 0x39) {
      const start = i;
      while (i < input.length && input[i]! >= 0x30 && input[i]! <= 0x39) i++;
      runs.push([start, i]);
    }
  }
  if (runs.length === 0) return input;
  const [start, end] = runs[below(random, runs.length)]!;
  const text = new TextEncoder().encode(INTERESTING_TEXT[below(random, INTERESTING_TEXT.length)]!);
  const out = new Uint8Array(input.length - (end - start) + text.length);
  out.set(input.subarray(0, start));
  out.set(text, start);
  out.set(input.subarray(end), start + text.length);
  return out;
}

function mutateOnce(input: Uint8Array, random: Random, corpus: readonly Uint8Array[], dictionary: readonly Uint8Array[]): Uint8Array {
  const n = input.length;
  switch (below(random, 10)) {
    case 0: { // flip one bit
      if (n === 0) return input;
      const out = input.slice();
      out[below(random, n)]! ^= 1 << below(random, 8);
      return out;
    }
    case 1: { // a random byte
      if (n === 0) return input;
      const out = input.slice();
      out[below(random, n)] = below(random, 256);
      return out;
    }
    case 2: { // an interesting integer, either byte order
      const out = input.slice();
      writeInteresting(out, random);
      return out;
    }
    case 3: { // delete a range
      if (n === 0) return input;
      const start = below(random, n);
      const len = 1 + below(random, Math.min(n - start, 64));
      return Uint8Array.from([...input.subarray(0, start), ...input.subarray(start + len)]);
    }
    case 4: { // insert random bytes
      const pos = below(random, n + 1);
      const extra = Uint8Array.from({ length: 1 + below(random, 16) }, () => below(random, 256));
      return concat(input.subarray(0, pos), extra, input.subarray(pos));
    }
    case 5: { // duplicate a range
      if (n === 0) return input;
      const start = below(random, n);
      const len = 1 + below(random, Math.min(n - start, 512));
      const pos = below(random, n + 1);
      return concat(input.subarray(0, pos), input.subarray(start, start + len), input.subarray(pos));
    }
    case 6: // truncate
      return input.subarray(0, below(random, n + 1));
    case 7: { // splice with another input
      const other = corpus[below(random, corpus.length)]!;
      return concat(input.subarray(0, below(random, n + 1)), other.subarray(below(random, other.length + 1)));
    }
    case 8:
      return replaceTextNumber(input, random);
    default: { // insert a dictionary token (format keywords, option names)
      if (dictionary.length === 0) return replaceTextNumber(input, random);
      const pos = below(random, n + 1);
      return concat(input.subarray(0, pos), dictionary[below(random, dictionary.length)]!, input.subarray(pos));
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** One to four stacked mutations of a corpus entry. */
export function mutate(corpus: readonly Uint8Array[], random: Random, dictionary: readonly Uint8Array[] = []): Uint8Array {
  let input = corpus[below(random, corpus.length)]!;
  for (let k = 1 + below(random, 4); k > 0; k--) input = mutateOnce(input, random, corpus, dictionary);
  return input;
}
