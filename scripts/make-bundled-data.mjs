#!/usr/bin/env node
// Makes the bundled default dataset, data/fashion-mnist-mini/: a class-balanced subset of the real
// Fashion-MNIST (the first 1,000 training and first 200 test images of each class, in file order),
// written as gzipped IDX like the original. Reads the files Debian's dataset-fashion-mnist package
// installs (apt-get install dataset-fashion-mnist), or a folder given as the first argument.
//
//   node scripts/make-bundled-data.mjs [/usr/share/datasets/fashion-mnist]
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';

const source = process.argv[2] ?? '/usr/share/datasets/fashion-mnist';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'data', 'fashion-mnist-mini');
const PER_CLASS = { train: 1000, t10k: 200 };
const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

function readIdx(file) {
  const bytes = gunzipSync(readFileSync(file));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0) !== 0 || bytes[2] !== 0x08) throw new Error(`${file}: not a uint8 IDX file`);
  const dims = Array.from({ length: bytes[3] }, (_, i) => view.getUint32(4 + 4 * i));
  return { dims, data: bytes.subarray(4 + 4 * dims.length) };
}

function encodeIdx(dims, data) {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  // Level 9 and zlib's fixed header (mtime 0) make the output a pure function of the input.
  return gzipSync(Buffer.concat([header, data]), { level: 9 });
}

function stats(images, count, pixels) {
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < count * pixels; i++) {
    sum += images[i];
    squares += images[i] * images[i];
  }
  const n = count * pixels;
  const mean = sum / n;
  return { mean: mean / 255, std: Math.sqrt(squares / n - mean * mean) / 255 };
}

mkdirSync(out, { recursive: true });
const meta = { name: 'fashion-mnist-mini', source: 'https://github.com/zalandoresearch/fashion-mnist', license: 'MIT', classes: CLASSES, splits: {}, files: {} };
for (const [prefix, perClass] of Object.entries(PER_CLASS)) {
  const images = readIdx(path.join(source, `${prefix}-images-idx3-ubyte.gz`));
  const labels = readIdx(path.join(source, `${prefix}-labels-idx1-ubyte.gz`));
  const [count, height, width] = images.dims;
  const pixels = height * width;
  const taken = new Array(CLASSES.length).fill(0);
  const chosen = [];
  for (let i = 0; i < count; i++) {
    const label = labels.data[i];
    if (taken[label] < perClass) {
      taken[label]++;
      chosen.push(i);
    }
  }
  if (taken.some((t) => t !== perClass)) throw new Error(`${prefix}: not enough images per class (${taken})`);
  const subImages = Buffer.alloc(chosen.length * pixels);
  const subLabels = Buffer.alloc(chosen.length);
  chosen.forEach((src, dst) => {
    subImages.set(images.data.subarray(src * pixels, (src + 1) * pixels), dst * pixels);
    subLabels[dst] = labels.data[src];
  });
  const files = {
    [`${prefix}-images-idx3-ubyte.gz`]: encodeIdx([chosen.length, height, width], subImages),
    [`${prefix}-labels-idx1-ubyte.gz`]: encodeIdx([chosen.length], subLabels),
  };
  for (const [name, bytes] of Object.entries(files)) {
    writeFileSync(path.join(out, name), bytes);
    meta.files[name] = { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  }
  const split = prefix === 'train' ? 'train' : 'test';
  meta.splits[split] = { count: chosen.length, perClass, ...stats(subImages, chosen.length, pixels) };
  if (prefix === 'train') {
    const full = stats(images.data, count, pixels);
    console.log(`full Fashion-MNIST train: mean ${full.mean.toFixed(4)} std ${full.std.toFixed(4)}`);
  }
  console.log(`${split}: ${chosen.length} images (${perClass} per class), mean ${meta.splits[split].mean.toFixed(4)} std ${meta.splits[split].std.toFixed(4)}`);
}
writeFileSync(path.join(out, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
console.log(`wrote ${out}`);
