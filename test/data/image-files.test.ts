// Image-file datasets against torchvision: ImageFolder's listing and class order, CSV/TSV labels,
// RandomResizedCrop boxes for given draws, Resize + CenterCrop pixels (fixtures from
// test/fixtures/gen_imagefolder.py), and the listing cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { indexImageFolder, listImageFolder, INDEX_CACHE_FILE } from '../../src/data/file-index.js';
import { labelsCacheFile, readLabelsFile } from '../../src/data/csv-labels.js';
import { openImageFiles, splitImageFiles } from '../../src/data/image-files.js';
import { decodeCrop, shrinksOnLoad } from '../../src/data/crop-decode.js';
import { headerDimensions } from '../../src/data/image-size.js';
import { RandomResizedCrop } from '../../src/data/transforms.js';
import { CorruptFileError, DatasetNotFoundError, DatasetOptionError } from '../../src/data/errors.js';
import { Generator } from '../../src/tensor/random.js';
import { readImage } from '../../src/io/image.js';
import { preprocessForModel } from '../../src/data/preprocess.js';
import { withTempDir } from '../helpers/tmp.js';
import { levelDiff } from '../helpers/level-diff.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures');

function writeTree(root: string, files: readonly string[]): void {
  for (const rel of files) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), '');
  }
}

test('ImageFolder listing: the classes and (file, label) order of torchvision', async () => {
  const want = JSON.parse(readFileSync(path.join(FIXTURES, 'imagefolder.json'), 'utf8')) as { tree: string[]; classes: string[]; samples: [string, number][] };
  const { dir, cleanup } = withTempDir();
  try {
    writeTree(dir, want.tree);
    const got = await listImageFolder(dir);
    assert.deepEqual(got.classes, want.classes);
    assert.deepEqual([...got.files].map((f, i) => [path.relative(dir, f).split(path.sep).join('/'), got.labels[i]]), want.samples);
  } finally {
    cleanup();
  }
});

test('ImageFolder listing is cached beside the data until a folder changes', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    writeTree(dir, ['cat/1.png', 'cat/2.png', 'dog/a/1.jpg']);
    const first = await indexImageFolder(dir);
    assert.equal(first.cached, false);
    assert.ok(readFileSync(path.join(dir, INDEX_CACHE_FILE), 'utf8').includes('dog'));
    const second = await indexImageFolder(dir);
    assert.equal(second.cached, true);
    assert.deepEqual([...second.files], [...first.files]);
    assert.deepEqual(Array.from(second.labels), [0, 0, 1]);
    // A file added deep down changes only its own folder's mtime; that is enough.
    writeTree(dir, ['dog/a/2.jpg']);
    utimesSync(path.join(dir, 'dog', 'a'), new Date(), new Date(Date.now() + 5000));
    const third = await indexImageFolder(dir);
    assert.equal(third.cached, false);
    assert.equal(third.files.length, 4);
    // A new class folder.
    writeTree(dir, ['emu/1.png']);
    const fourth = await indexImageFolder(dir);
    assert.equal(fourth.cached, false);
    assert.deepEqual(fourth.classes, ['cat', 'dog', 'emu']);
    writeTree(dir, ['empty/readme.txt']);
    await assert.rejects(indexImageFolder(dir), (e: Error) => e instanceof DatasetNotFoundError && /empty holds no/.test(e.message));
  } finally {
    cleanup();
  }
});

test('labels files: names (sorted as torchvision) or indices, paths relative to the file, TSV, header, errors by line', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    writeTree(dir, ['img/a.png', 'img/b.png', 'img/c.png', 'img/d e.png']);
    writeFileSync(path.join(dir, 'train.csv'), 'path,label\nimg/a.png,zebra\nimg/b.png,Ant\n"img/d e.png",zebra\n\n');
    const byName = await readLabelsFile(path.join(dir, 'train.csv'));
    assert.deepEqual(byName.classes, ['Ant', 'zebra']);
    assert.deepEqual([...byName.files], ['a.png', 'b.png', 'd e.png'].map((f) => path.join(dir, 'img', f)));
    assert.deepEqual(Array.from(byName.labels), [1, 0, 1]);
    writeFileSync(path.join(dir, 'val.tsv'), 'img/c.png\tAnt\n');
    const val = await readLabelsFile(path.join(dir, 'val.tsv'), byName.classes);
    assert.deepEqual(Array.from(val.labels), [0]);
    mkdirSync(path.join(dir, 'lists'));
    writeFileSync(path.join(dir, 'lists', 'idx.tsv'), '../img/a.png\t2\n../img/b.png\t0\n');
    const byIndex = await readLabelsFile(path.join(dir, 'lists', 'idx.tsv'));
    assert.deepEqual(byIndex.classes, ['0', '1', '2']);
    assert.deepEqual(Array.from(byIndex.labels), [2, 0]);
    assert.equal(byIndex.files.at(0), path.join(dir, 'img', 'a.png'));
    writeFileSync(path.join(dir, 'bad.csv'), 'img/a.png,Ant\nimg/b.png,Bee\n');
    await assert.rejects(readLabelsFile(path.join(dir, 'bad.csv'), byName.classes), (e: Error) => e instanceof CorruptFileError && /line 2.*"Bee"/.test(e.message));
    writeFileSync(path.join(dir, 'short.csv'), 'img/a.png\n');
    await assert.rejects(readLabelsFile(path.join(dir, 'short.csv')), /line 1: expected path,label/);
    // Through the dataset opener: --train-csv/--val-csv, --labels alone has no val split.
    const train = await openImageFiles('train', { trainCsv: 'train.csv', valCsv: 'val.tsv', cwd: dir });
    const v = await openImageFiles('val', { trainCsv: 'train.csv', valCsv: 'val.tsv', cwd: dir });
    assert.deepEqual([train.files.length, v.files.length, v.classes], [3, 1, ['Ant', 'zebra']]);
    await assert.rejects(openImageFiles('val', { labels: 'train.csv', cwd: dir }), /--val-split/);
    await assert.rejects(openImageFiles('train', { labels: 'train.csv', trainCsv: 'train.csv', cwd: dir }), DatasetOptionError);
  } finally {
    cleanup();
  }
});

test('a labels file\'s file sizes are cached beside it until it changes: a second read stats no image', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    mkdirSync(path.join(dir, 'img'));
    for (const [name, bytes] of [['a.jpg', 10], ['b.jpg', 20], ['c.png', 30]] as const) writeFileSync(path.join(dir, 'img', name), Buffer.alloc(bytes));
    const csv = path.join(dir, 'train.csv');
    writeFileSync(csv, 'path,label\nimg/a.jpg,x\nimg/b.jpg,y\nimg/c.png,x\n');
    const first = await readLabelsFile(csv);
    assert.deepEqual(Array.from(first.sizes), [10, 20, 30]);
    assert.ok(readFileSync(labelsCacheFile(csv), 'utf8').includes('"count":3'));
    // Files changed behind an unchanged labels file are not looked at again (one stat a file was the cost).
    writeFileSync(path.join(dir, 'img', 'b.jpg'), Buffer.alloc(99));
    assert.deepEqual(Array.from((await readLabelsFile(csv)).sizes), [10, 20, 30]);
    assert.deepEqual(Array.from((await readLabelsFile(csv, undefined, { cache: false })).sizes), [10, 99, 30]);
    // The labels file changed (its time, or its size): listed again.
    utimesSync(csv, new Date(), new Date(Date.now() + 5000));
    assert.deepEqual(Array.from((await readLabelsFile(csv)).sizes), [10, 99, 30]);
    writeFileSync(csv, 'path,label\nimg/a.jpg,x\nimg/c.png,y\n');
    utimesSync(csv, new Date(), new Date(Date.now() + 5000));
    const changed = await readLabelsFile(csv);
    assert.deepEqual([Array.from(changed.sizes), Array.from(changed.labels)], [[10, 30], [0, 1]]);
    // The images' folder is not an image folder's class: the cache is a dot file beside the labels file.
    assert.equal(path.dirname(labelsCacheFile(csv)), dir);
    assert.ok(path.basename(labelsCacheFile(csv)).startsWith('.train.csv'));
  } finally {
    cleanup();
  }
});

test('splitImageFiles holds out the same seeded share as splitDataset', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    writeTree(dir, Array.from({ length: 10 }, (_, i) => `${i % 2 ? 'b' : 'a'}/${i}.png`));
    const all = await openImageFiles('train', { dataDir: dir });
    const { train, val } = splitImageFiles(all, 0.2, 7);
    assert.equal(val.files.length, 2);
    assert.equal(train.files.length + val.files.length, 10);
    assert.deepEqual(new Set([...train.files, ...val.files]), new Set(all.files));
    assert.deepEqual([...splitImageFiles(all, 0.2, 7).val.files], [...val.files]);
  } finally {
    cleanup();
  }
});

/** A Generator stand-in that hands out the fixture's uniform draws in order. */
function drawsFrom(us: number[]): Generator {
  let i = 0;
  const random = () => {
    assert.ok(i < us.length, 'drew more than torchvision did');
    return us[i++]!;
  };
  return { random, randint: (n: number) => Math.floor(random() * n), used: () => i } as unknown as Generator;
}

test('RandomResizedCrop samples the box on the original as torchvision get_params does, for the same draws', () => {
  const cases = JSON.parse(readFileSync(path.join(FIXTURES, 'rrc_boxes.json'), 'utf8')) as
    { height: number; width: number; scale: [number, number]; ratio: [number, number]; draws: number[]; box: number[] }[];
  let fallbacks = 0;
  for (const c of cases) {
    const gen = drawsFrom(c.draws);
    const box = new RandomResizedCrop(8, { scale: c.scale, ratio: c.ratio }).params(c.height, c.width, gen);
    assert.deepEqual(box, c.box, `${c.height}x${c.width} scale ${c.scale} ratio ${c.ratio}`);
    assert.equal((gen as unknown as { used(): number }).used(), c.draws.length, 'same number of draws');
    if (c.draws.length === 20) fallbacks++;
  }
  assert.ok(fallbacks > 0 && fallbacks < cases.length, 'the fixture covers both the sampled box and the centre fallback');
});

async function rawPixels(file: string): Promise<Buffer> {
  return sharp(file).removeAlpha().raw().toBuffer();
}

test('Resize + CenterCrop while decoding equals torchvision (PIL) within the resampling tolerance', async () => {
  // Tolerances in uint8 levels. Shrinking: sharp's linear kernel and PIL's antialiased bilinear are
  // both triangle filters widened by the scale (measured: mean 0.08, max 2). Enlarging goes through
  // the augmenter's PIL-exact resize (mean 0.06, max 1). A big JPEG is also shrunk while it is
  // decoded (libjpeg's DCT scaling, which PIL does not do): measured mean 0.67, max 14 at hard edges.
  const tolerances = { png: { mean: 0.25, max: 3 }, jpg: { mean: 1, max: 16 } } as const;
  for (const kind of ['png', 'jpg'] as const) {
    for (const [resize, crop] of [[64, 56], [256, 224]] as const) {
      const out = new Uint8Array(3 * crop * crop);
      await decodeCrop(path.join(FIXTURES, 'images', `centercrop_input.${kind}`), { kind: 'resizeCenterCrop', resize, height: crop, width: crop }, 3, new Generator(0), out, 0);
      const want = await rawPixels(path.join(FIXTURES, 'images', `centercrop_${resize}_${crop}_${kind}.png`));
      assert.equal(want.length, out.length);
      const plane = crop * crop;
      let sum = 0, max = 0;
      for (let i = 0; i < plane; i++) {
        for (let c = 0; c < 3; c++) {
          const d = Math.abs(out[c * plane + i]! - want[i * 3 + c]!);
          sum += d;
          max = Math.max(max, d);
        }
      }
      const mean = sum / out.length;
      assert.ok(mean <= tolerances[kind].mean && max <= tolerances[kind].max, `${kind} Resize(${resize}) + CenterCrop(${crop}): mean |diff| ${mean.toFixed(3)}, max ${max}`);
    }
  }
});

test('RandomResizedCrop while decoding equals torchvision\'s resized_crop of the same box within the resampling tolerance; big JPEG boxes shrink on load', async () => {
  // Boxes under 8× the output are cut at full size, then resized (sharp's linear kernel against
  // PIL's antialiased bilinear), measured in uint8 levels: JPEG mean 0.2-0.4, max 2-6; PNG mean
  // 0.07, max 2. A JPEG box 8× the output or more is cut from the whole image resized by the box's
  // scale, which libvips decodes at 1/4 or 1/8 scale: on this picture's hard synthetic edges mean
  // 2.3 levels, max 85, 98.5% of values within 16 (edges move by under one output pixel);
  // a wrong box, flip or scale would be off by tens of levels on average.
  const exact = { mean: 0.5, max: 8, within16: 1 }, shrunk = { mean: 3.5, max: 255, within16: 0.95 };
  const cases = [
    { kind: 'jpg', box: [60, 90, 640, 820], size: 224, tol: exact },
    { kind: 'jpg', box: [20, 30, 700, 900], size: 112, tol: exact },
    { kind: 'jpg', box: [20, 30, 700, 900], size: 64, tol: shrunk },
    { kind: 'png', box: [10, 20, 150, 200], size: 64, tol: exact },
  ] as const;
  for (const c of cases) {
    assert.equal(shrinksOnLoad(c.box, c.size, c.size), c.tol === shrunk);
    const out = new Uint8Array(3 * c.size * c.size);
    const crop = { size: [c.size, c.size], params: () => [...c.box] } as unknown as RandomResizedCrop;
    await decodeCrop(path.join(FIXTURES, 'images', `centercrop_input.${c.kind}`), { kind: 'randomResizedCrop', crop }, 3, new Generator(0), out, 0);
    const want = await rawPixels(path.join(FIXTURES, 'images', `rrc_${c.box.join('_')}_${c.size}_${c.kind}.png`));
    const { mean, max, within16 } = levelDiff(out, want, 3);
    assert.ok(mean <= c.tol.mean && max <= c.tol.max && within16 >= c.tol.within16,
      `${c.kind} box ${c.box} → ${c.size}: mean |diff| ${mean.toFixed(3)}, max ${max}, ${(100 * within16).toFixed(1)}% within 16 levels`);
  }
});

test('a corrupt or missing image is an error naming the file', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    writeFileSync(path.join(dir, 'bad.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    const out = new Uint8Array(3 * 8 * 8);
    const spec = { kind: 'resizeCenterCrop', resize: 9, height: 8, width: 8 } as const;
    await assert.rejects(decodeCrop(path.join(dir, 'bad.jpg'), spec, 3, new Generator(0), out, 0), (e: Error) => e instanceof CorruptFileError && e.message.includes('bad.jpg'));
    await assert.rejects(decodeCrop(path.join(dir, 'gone.png'), spec, 3, new Generator(0), out, 0), (e: Error) => e instanceof CorruptFileError && e.message.includes('gone.png'));
  } finally {
    cleanup();
  }
});

test('preprocessForModel with a recorded evalResize: Resize + CenterCrop as the run validated (cnn predict)', async () => {
  const image = await readImage(path.join(FIXTURES, 'images', 'centercrop_input.png'));
  const x = preprocessForModel(image, { mean: [0, 0, 0], std: [1, 1, 1], inputShape: [3, 56, 56], evalResize: 64 });
  const want = await rawPixels(path.join(FIXTURES, 'images', 'centercrop_64_56_png.png'));
  const plane = 56 * 56;
  let max = 0;
  // PIL rounds to uint8 after resizing: half a level, and the float path is PIL's filter.
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) max = Math.max(max, Math.abs(x[c * plane + i]! * 255 - want[i * 3 + c]!));
  assert.ok(max <= 1, `max |diff| ${max} levels`);
});

test('headerDimensions reads JPEG (baseline, progressive, with EXIF) and PNG sizes as sharp does; anything else is null', async () => {
  for (const file of ['centercrop_input.jpg', 'centercrop_input.png']) {
    const bytes = readFileSync(path.join(FIXTURES, 'images', file));
    const meta = await sharp(bytes).metadata();
    assert.deepEqual(headerDimensions(bytes), [meta.width, meta.height], file);
  }
  for (const jpeg of [{ progressive: true }, {}]) {
    const bytes = await sharp({ create: { width: 37, height: 21, channels: 3, background: 'red' } }).withMetadata({ orientation: 6 }).jpeg(jpeg).toBuffer();
    assert.deepEqual(headerDimensions(bytes), [37, 21]);
  }
  const webp = await sharp({ create: { width: 5, height: 4, channels: 3, background: 'red' } }).webp().toBuffer();
  for (const b of [webp, Buffer.from([0xff, 0xd8, 0xff]), Buffer.from('not an image at all'), Buffer.alloc(0)]) assert.equal(headerDimensions(b), null);
});
