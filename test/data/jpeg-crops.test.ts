// The addon's libjpeg-turbo crop decoder (native/image) against torchvision's fixtures
// (test/fixtures/gen_imagefolder.py), against sharp's path, and at its edges: corrupt and
// truncated files, grayscale and CMYK JPEGs, PNGs handed back, the binding's argument checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { decodeJpegCrops, nativeJpegDecoder, type CropJob } from '../../src/data/jpeg-crops.js';
import { decodeCrop, type CropSpec } from '../../src/data/crop-decode.js';
import { augmentBatch, planAugment } from '../../src/data/augment.js';
import { Compose, Normalize, RandomHorizontalFlip, ToTensor, type RandomResizedCrop } from '../../src/data/transforms.js';
import { openImageFiles } from '../../src/data/image-files.js';
import { photoTransforms } from '../../src/data/photo-transforms.js';
import { StreamingLoader } from '../../src/data/stream-loader.js';
import { CorruptFileError } from '../../src/data/errors.js';
import type { Batch } from '../../src/data/loader.js';
import { Generator } from '../../src/tensor/random.js';
import { native } from '../../src/tensor/native.js';
import { withTempDir } from '../helpers/tmp.js';
import { levelDiff } from '../helpers/level-diff.js';

const IMAGES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/images');
const INPUT = path.join(IMAGES, 'centercrop_input.jpg');

const job = (file: string, slot = 0, flip = false): CropJob => ({ file, slot, gen: new Generator(0), flip });
const boxSpec = (box: number[], size: number): CropSpec =>
  ({ kind: 'randomResizedCrop', crop: { size: [size, size], params: () => [...box] } as unknown as RandomResizedCrop });

async function nativeCrop(file: string, spec: CropSpec): Promise<Uint8Array> {
  const { pixels, others, failed } = await decodeJpegCrops([job(file)], spec, 1, 1);
  assert.deepEqual([others.length, failed.map((f) => f.error.message)], [0, []]);
  return pixels;
}

test('this build has the native JPEG decoder (libjpeg62-turbo-dev; .ci/run installs it)', () => {
  assert.match(nativeJpegDecoder ?? 'none', /^libjpeg-turbo \d/);
});

test('the native decoder gives torchvision\'s Resize + CenterCrop and resized_crop within the resampling tolerance', async () => {
  // PIL's filter and rounding, so what differs is the decoding: the 1000x750 JPEG is decoded at
  // 1/2 scale (DCT scaling, which PIL does not do) wherever the box stays at least the output
  // size at that scale, which moves this picture's hard synthetic edges by a few levels at a few
  // pixels. Measured: mean 0.34-0.57 levels, max 10-23. A wrong box, flip or scale is tens of
  // levels off on average.
  const tol = { mean: 0.75, max: 32 };
  for (const [resize, crop] of [[64, 56], [256, 224]] as const) {
    const out = await nativeCrop(INPUT, { kind: 'resizeCenterCrop', resize, height: crop, width: crop });
    const want = await sharp(path.join(IMAGES, `centercrop_${resize}_${crop}_jpg.png`)).removeAlpha().raw().toBuffer();
    const { mean, max } = levelDiff(out, want, 3);
    assert.ok(mean <= tol.mean && max <= tol.max, `Resize(${resize}) + CenterCrop(${crop}): mean |diff| ${mean.toFixed(3)}, max ${max}`);
  }
  for (const [box, size] of [[[60, 90, 640, 820], 224], [[20, 30, 700, 900], 112], [[20, 30, 700, 900], 64]] as const) {
    const out = await nativeCrop(INPUT, boxSpec([...box], size));
    const want = await sharp(path.join(IMAGES, `rrc_${box.join('_')}_${size}_jpg.png`)).removeAlpha().raw().toBuffer();
    const { mean, max } = levelDiff(out, want, 3);
    assert.ok(mean <= tol.mean && max <= tol.max, `box ${box} -> ${size}: mean |diff| ${mean.toFixed(3)}, max ${max}`);
  }
});

test('the decoder\'s normalized, flipped floats are the uint8 crop through the augmenter\'s flip + ToTensor + Normalize, bit for bit', async () => {
  const spec = boxSpec([100, 150, 400, 500], 48);
  const per = 3 * 48 * 48, seeds = Uint32Array.of(1, 2, 3, 4, 5, 6);
  const mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
  const plan = planAugment(new Compose([new RandomHorizontalFlip(), new ToTensor(), new Normalize(mean, std)]), { channels: 3, height: 48, width: 48 });
  const jobs = Array.from(seeds, (seed, k) => ({ ...job(INPUT, k), flip: new Generator(seed).random() < 0.5 }));
  const bytes = (await decodeJpegCrops(jobs.map((j) => ({ ...j, flip: false })), spec, seeds.length, 2)).pixels;
  assert.equal(bytes.length, seeds.length * per);
  const want = augmentBatch(plan, bytes, Int32Array.from(seeds.keys()), seeds, 1);
  const got = (await decodeJpegCrops(jobs, spec, seeds.length, 2, { floats: true, mean, std })).pixels;
  assert.ok(jobs.some((j) => j.flip) && jobs.some((j) => !j.flip), 'the seeds flip some images and not others');
  assert.deepEqual(got, want);
});

test('corrupt and truncated JPEGs fail naming the file; PNGs and CMYK JPEGs are handed back; grayscale JPEGs become RGB', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const photo = readFileSync(INPUT);
    const files = {
      truncated: path.join(dir, 'truncated.jpg'), garbage: path.join(dir, 'garbage.jpg'), missing: path.join(dir, 'missing.jpg'),
      png: path.join(dir, 'picture.png'), cmyk: path.join(dir, 'cmyk.jpg'), gray: path.join(dir, 'gray.jpg'),
    };
    writeFileSync(files.truncated, photo.subarray(0, photo.length >> 1));
    writeFileSync(files.garbage, Buffer.concat([photo.subarray(0, 600), Buffer.alloc(4000, 0x5a)]));
    await sharp(INPUT).png().toFile(files.png);
    await sharp(INPUT).toColourspace('cmyk').jpeg().toFile(files.cmyk);
    await sharp(INPUT).toColourspace('b-w').jpeg({ quality: 95 }).toFile(files.gray);
    const spec: CropSpec = { kind: 'resizeCenterCrop', resize: 64, height: 56, width: 56 };
    const per = 3 * 56 * 56;
    const jobs = Object.values(files).map((f, k) => job(f, k));
    const { pixels: out, others, failed } = await decodeJpegCrops(jobs, spec, jobs.length, 2);
    assert.deepEqual(others.map((j) => j.file).sort(), [files.cmyk, files.png].sort());
    assert.deepEqual(failed.map((f) => f.job.file).sort(), [files.garbage, files.missing, files.truncated].sort());
    for (const { job: j, error } of failed) {
      assert.ok(error instanceof CorruptFileError && error.message.startsWith(`cannot decode image ${j.file}: `), error.message);
    }
    assert.match(failed.find((f) => f.job.file === files.truncated)!.error.message, /Premature end of JPEG file/);
    // Slots no file filled are zeros.
    for (const j of [...others, ...failed.map((f) => f.job)]) assert.ok(out.subarray(j.slot * per, (j.slot + 1) * per).every((v) => v === 0));
    // Grayscale: the three channels equal (PIL's convert('RGB')), and the picture sharp's path gives.
    const slot = jobs.findIndex((j) => j.file === files.gray);
    const gray = out.subarray(slot * per, (slot + 1) * per);
    assert.deepEqual(gray.subarray(0, per / 3), gray.subarray(per / 3, 2 * per / 3));
    assert.deepEqual(gray.subarray(0, per / 3), gray.subarray(2 * per / 3));
    const viaSharp = new Uint8Array(per);
    await decodeCrop(files.gray, spec, 3, new Generator(0), viaSharp, 0);
    const hwc = new Uint8Array(per);
    for (let i = 0; i < per / 3; i++) for (let c = 0; c < 3; c++) hwc[i * 3 + c] = viaSharp[c * (per / 3) + i]!;
    const { mean, max } = levelDiff(gray, hwc, 3);
    assert.ok(mean <= 0.75 && max <= 32, `grayscale against sharp: mean ${mean.toFixed(3)}, max ${max}`);
  } finally {
    cleanup();
  }
});

test('EXIF orientation is ignored, as the sharp path and PIL\'s ImageFolder loader ignore it', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const file = path.join(dir, 'rotated.jpg');
    await sharp(INPUT).resize(300, 200).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toFile(file);
    // A box only the unrotated 300x200 picture holds: rotating first would make it 200 wide.
    const spec = boxSpec([10, 20, 180, 260], 32);
    const ours = await nativeCrop(file, spec);
    const theirs = new Uint8Array(3 * 32 * 32);
    await decodeCrop(file, spec, 3, new Generator(0), theirs, 0);
    const hwc = new Uint8Array(theirs.length);
    for (let i = 0; i < 32 * 32; i++) for (let c = 0; c < 3; c++) hwc[i * 3 + c] = theirs[c * 32 * 32 + i]!;
    const { mean, max } = levelDiff(ours, hwc, 3);
    assert.ok(mean <= 0.75 && max <= 8, `against sharp: mean ${mean.toFixed(3)}, max ${max}`);
  } finally {
    cleanup();
  }
});

async function collect(loader: StreamingLoader): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader) out.push(b);
  return out;
}

test('the loader: PNGs and CMYK JPEGs through sharp beside the decoder\'s JPEGs, a truncated JPEG in the middle named or skipped and counted', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    mkdirSync(path.join(dir, 'a'));
    mkdirSync(path.join(dir, 'b'));
    for (let i = 0; i < 5; i++) {
      const picture = sharp(INPUT).resize(200 + 20 * i, 150).modulate({ hue: 40 * i });
      await (i === 1 ? picture.png() : i === 3 ? picture.toColourspace('cmyk').jpeg() : picture.jpeg()).toFile(path.join(dir, 'a', `${i}.${i === 1 ? 'png' : 'jpg'}`));
      await picture.clone().jpeg().toFile(path.join(dir, 'b', `${i}.jpg`));
    }
    const ds = await openImageFiles('train', { dataDir: dir });
    type Level = 'none' | 'basic' | 'strong';
    const make = (augment: Level, extra: Partial<ConstructorParameters<typeof StreamingLoader>[1]> = {}) => new StreamingLoader(ds,
      { batchSize: 4, shuffle: augment !== 'none', seed: 9, ...photoTransforms({ size: 32, augment, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }, augment !== 'none'), ...extra });
    // none and basic: the decoder writes the floats; strong (ColorJitter, RandomErasing): uint8 crops through the augmenter.
    for (const augment of ['none', 'basic', 'strong'] as const) {
      const [ours, theirs] = [await collect(make(augment)), await collect(make(augment, { decoder: 'sharp' }))];
      assert.deepEqual(ours.map((b) => Array.from(b.indices)), theirs.map((b) => Array.from(b.indices)));
      for (const [k, b] of ours.entries()) {
        const other = theirs[k]!.x.data;
        for (const [n, index] of b.indices.entries()) {
          const per = b.x.data.length / b.indices.length;
          const [x, y] = [b.x.data.subarray(n * per, (n + 1) * per), other.subarray(n * per, (n + 1) * per)];
          const file = ds.files.at(index);
          if (file.endsWith('1.png') || file.endsWith(path.join('a', '3.jpg'))) {
            assert.deepEqual(x, y, `${file} goes through sharp`);
          } else {
            // Same box and flip; libvips' and PIL's filters differ by a level or two (0.25 std: 4/255 per level).
            const mean = x.reduce((s, v, i) => s + Math.abs(v - y[i]!), 0) / per;
            assert.ok(mean < 0.05, `${file}: mean |diff| ${mean} against sharp's path`);
          }
        }
      }
    }
    const bad = path.join(dir, 'b', '2.jpg');
    writeFileSync(bad, readFileSync(bad).subarray(0, 700));
    await assert.rejects(collect(make('none')), (e: Error) => e instanceof CorruptFileError && e.message.includes(bad));
    for (const augment of ['basic', 'strong'] as const) {
      const skipping = make(augment, { skipBadImages: true });
      const batches = await collect(skipping);
      assert.deepEqual(skipping.badImages, [bad]);
      assert.equal(batches.reduce((n, b) => n + b.y.length, 0), 9);
      for (const b of batches) assert.deepEqual(b.x.shape, [b.y.length, 3, 32, 32]);
      // The images kept are those of the run with the sharp decoder that also skips it, in the same order.
      const viaSharp = await collect(make(augment, { skipBadImages: true, decoder: 'sharp' }));
      assert.deepEqual(batches.map((b) => Array.from(b.indices)), viaSharp.map((b) => Array.from(b.indices)));
    }
  } finally {
    cleanup();
  }
});

test('decodeJpegCropsAsync checks its arguments before decoding anything', () => {
  const params = () => ({ files: [readFileSync(INPUT)], boxes: Float64Array.of(0, 0, 100, 100), clipToImage: false, slots: Int32Array.of(1),
    flips: Uint8Array.of(0), count: 2, height: 8, width: 8, floats: false, mean: [0, 0, 0], std: [1, 1, 1], threads: 1 });
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ boxes: Float64Array.of(0, 0, 100) }, /boxes must hold 4 numbers per file/],
    [{ boxes: Float64Array.of(0, 0, 0, 100) }, /boxes\[2\] = 0\.0+ is not a positive side/],
    [{ boxes: Float64Array.of(-1, 0, 10, 10) }, /boxes\[0\] .* is not a non-negative offset/],
    [{ boxes: Float64Array.of(0, NaN, 10, 10) }, /boxes\[1\]/],
    [{ slots: Int32Array.of(2) }, /slots\[0\] = 2 is outside the 2 images of params.count/],
    [{ slots: Int32Array.of(0, 1) }, /slots must hold one slot per file/],
    [{ flips: new Uint8Array(0) }, /flips must hold one flag per file/],
    [{ count: -1 }, /params.count/],
    [{ count: 65536, height: 30000, width: 30000 }, /is too large/],
    [{ files: ['not bytes'] }, /expected a Uint8Array for params.files\[0\]/],
    [{ std: [1, 0, 1] }, /std must not contain 0/],
    [{ height: 0 }, /params.height/],
  ];
  for (const [change, message] of bad) {
    assert.throws(() => native.decodeJpegCropsAsync({ ...params(), ...change } as never), (e: Error) => (e instanceof RangeError || e instanceof TypeError)
      && e.message.startsWith('decodeJpegCropsAsync: ') && message.test(e.message), `${JSON.stringify(Object.keys(change))}: ${message}`);
  }
});
