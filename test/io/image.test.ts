import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { readImage, writePng, ImageError } from '../../src/io/image.js';
import { preprocessForModel } from '../../src/data/preprocess.js';
import { loadFixture, repoRoot } from '../helpers/fixtures.js';
import { assertClose, FORWARD } from '../helpers/assert.js';
import { withTempDir } from '../helpers/tmp.js';
import { writeHugePngHeader } from '../helpers/images.js';

const input = `${repoRoot}test/fixtures/images/gradcam_input.png`;

test('readImage decodes a grayscale PNG to HWC bytes', async () => {
  const img = await readImage(input);
  assert.equal(img.width, 42);
  assert.equal(img.height, 56);
  assert.equal(img.channels, 1);
  assert.equal(img.data.length, 42 * 56);
});

test('preprocessForModel matches torchvision: antialiased resize, /255, normalize', async () => {
  const c = loadFixture<{ mean: number; std: number }>('gradcam.safetensors').find((k) => k.name === 'file')!;
  const x = preprocessForModel(await readImage(input), { mean: [c.params.mean], std: [c.params.std], inputShape: [1, 28, 28] });
  assertClose(x, c.t.x.data, FORWARD, 'preprocessed input');
});

test('preprocessForModel converts grayscale to RGB and RGB to grayscale luma', () => {
  const gray = { data: Uint8Array.of(0, 255), width: 2, height: 1, channels: 1 as const };
  assert.deepEqual([...preprocessForModel(gray, { mean: [0], std: [1], inputShape: [3, 1, 2] })], [0, 1, 0, 1, 0, 1]);
  const rgb = { data: Uint8Array.of(255, 0, 0, 0, 0, 255), width: 2, height: 1, channels: 3 as const };
  assertClose(preprocessForModel(rgb, { mean: [0.5], std: [0.5], inputShape: [1, 1, 2] }), Float32Array.of(0.2989 * 2 - 1, 0.114 * 2 - 1), FORWARD, 'luma');
  assert.throws(() => preprocessForModel(rgb, { mean: [0], std: [1], inputShape: [2, 1, 2] }), /2-channel input/);
});

test('writePng keeps 1 or 3 channels and checks its arguments', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const rgb = path.join(dir, 'rgb.png'), gray = path.join(dir, 'gray.png');
    await writePng(rgb, Uint8Array.from({ length: 5 * 4 * 3 }, (_, i) => i), 5, 4);
    await writePng(gray, Uint8Array.from({ length: 5 * 4 }, (_, i) => i * 10), 5, 4, 1);
    const m1 = await sharp(rgb).metadata(), m2 = await sharp(gray).metadata();
    assert.deepEqual([m1.width, m1.height, m1.channels], [5, 4, 3]);
    assert.deepEqual([m2.width, m2.height, m2.channels], [5, 4, 1]);
    const back = await readImage(gray);
    assert.deepEqual([...back.data], Array.from({ length: 20 }, (_, i) => i * 10));
    await assert.rejects(writePng(rgb, new Uint8Array(10), 5, 4), RangeError);
  } finally {
    cleanup();
  }
});

test('readImage: one clear ImageError per kind of bad file', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const text = path.join(dir, 'notes.png'), truncated = path.join(dir, 'cut.png'), huge = path.join(dir, 'huge.png');
    writeFileSync(text, 'this is not a picture\n');
    const bytes = readFileSync(input);
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    writeHugePngHeader(huge, 100_000, 100_000);
    await assert.rejects(readImage(path.join(dir, 'none.png')), (e: Error) => e instanceof ImageError && /none\.png: no such file/.test(e.message));
    await assert.rejects(readImage(dir), /not a file/);
    await assert.rejects(readImage(text), (e: Error) => e instanceof ImageError && /notes\.png is not a readable image/.test(e.message));
    await assert.rejects(readImage(truncated), (e: Error) => e instanceof ImageError && /cut\.png is damaged or truncated/.test(e.message));
    await assert.rejects(readImage(huge), (e: Error) => e instanceof ImageError && /100000x100000 = 10000000000 pixels, above the limit/.test(e.message));
    await assert.rejects(readImage(input, { maxPixels: 1000 }), /42x56 = 2352 pixels, above the limit of 1000/);
  } finally {
    cleanup();
  }
});

test('an SVG is refused at once unless allowed (a blurred 8000x8000 drawing rendered for minutes)', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const blur = path.join(dir, 'blur.png');
    writeFileSync(blur, '<svg xmlns="http://www.w3.org/2000/svg" width="8000" height="8000"><filter id="b"><feGaussianBlur stdDeviation="400"/></filter><rect width="8000" height="8000" fill="red" filter="url(#b)"/></svg>');
    await assert.rejects(readImage(blur), (e: Error) => e instanceof ImageError && /blur\.png is an SVG drawing; images are read from PNG, JPEG or WebP \(pass --allow-svg/.test(e.message));
    const small = path.join(dir, 'small.svg');
    writeFileSync(small, '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="3"><rect width="4" height="3" fill="#00ff00"/></svg>');
    const img = await readImage(small, { allowSvg: true });
    assert.deepEqual([img.width, img.height, img.channels], [4, 3, 3]);
    assert.deepEqual([...img.data.subarray(0, 3)], [0, 255, 0]);
  } finally {
    cleanup();
  }
});

test('the dataset decoders never render an SVG file, even one named .png', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    // Loading them blocks libvips' SVG file loader for the process (the buffer loader draws charts).
    await import('../../src/data/imagefolder.js');
    await import('../../src/data/crop-decode.js');
    const file = path.join(dir, 'drawing.png');
    writeFileSync(file, '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="3"><rect width="4" height="3"/></svg>');
    await assert.rejects(sharp(file).raw().toBuffer(), /unsupported image format/);
    await assert.rejects(readImage(file), /drawing\.png is an SVG drawing/);
    assert.equal((await sharp(Buffer.from(readFileSync(file))).png().toBuffer()).length > 0, true);
  } finally {
    cleanup();
  }
});
