#!/usr/bin/env node
// Writes a folder of JPEG photos-to-be for the data benchmarks: ROOT/class_<k>/<n>.jpg, COUNT
// files of WIDTHxHEIGHT (every fifth one 3:4 instead of 4:3, so sizes are mixed), smooth
// gradients with blocks and noise so they compress like photos (~40 KB at 500x375).
// Usage: node bench/make-image-folder.mjs ROOT COUNT [WIDTHxHEIGHT] [CLASSES]
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

const [root, countArg, sizeArg = '500x375', classesArg = '10'] = process.argv.slice(2);
if (!root || !countArg) {
  console.error('usage: node bench/make-image-folder.mjs ROOT COUNT [WIDTHxHEIGHT] [CLASSES]');
  process.exit(2);
}
const count = Number(countArg), classes = Number(classesArg);
const [w0, h0] = sizeArg.split('x').map(Number);
let state = 12345;
const rand = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
for (let k = 0; k < classes; k++) mkdirSync(path.join(root, `class_${String(k).padStart(2, '0')}`), { recursive: true });
const pending = [];
for (let n = 0; n < count; n++) {
  const [width, height] = n % 5 === 4 ? [h0, w0] : [w0, h0];
  const px = Buffer.alloc(width * height * 3);
  const base = [rand() * 255, rand() * 255, rand() * 255];
  const bx = Math.floor(rand() * width), by = Math.floor(rand() * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const block = x > bx && y > by ? 60 : 0;
      for (let c = 0; c < 3; c++) px[i + c] = Math.min(255, base[c] * (0.5 + x / width / 2) + (y / height) * 60 + block + rand() * 24);
    }
  }
  const file = path.join(root, `class_${String(n % classes).padStart(2, '0')}`, `${String(n).padStart(6, '0')}.jpg`);
  pending.push(sharp(px, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toFile(file));
  if (pending.length >= 8) await Promise.all(pending.splice(0));
}
await Promise.all(pending);
console.error(`wrote ${count} JPEGs to ${root}`);
