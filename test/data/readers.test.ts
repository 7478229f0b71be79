// IDX and CIFAR readers on files written here in the real formats, plus truncated/corrupt ones;
// and the bundled Fashion-MNIST subset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx, parseIdx } from '../../src/data/idx.js';
import { loadIdxImageDataset } from '../../src/data/idx-dataset.js';
import { CIFAR10_FOLDER, cifar10 } from '../../src/data/cifar10.js';
import { cifar100, type Cifar100Dataset } from '../../src/data/cifar100.js';
import { ensureExtracted } from '../../src/data/cifar-binary.js';
import { loadDataset } from '../../src/data/registry.js';
import { imageAt } from '../../src/data/dataset.js';
import { ChecksumMismatchError, CorruptFileError, NotAnArchiveError, TruncatedFileError } from '../../src/data/errors.js';
import { makeTarGz } from '../helpers/tar.js';
import { withTempDir } from '../helpers/tmp.js';

function pattern(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 17) & 255);
}

test('IDX: plain and gzipped files give the same array; header fields are read big-endian', () => {
  const data = pattern(3 * 4 * 5, 1);
  const plain = encodeIdx([3, 4, 5], data);
  for (const bytes of [plain, gzipSync(plain)]) {
    const idx = parseIdx(bytes);
    assert.deepEqual(idx.dims, [3, 4, 5]);
    assert.deepEqual(idx.data, data);
  }
  assert.deepEqual(Array.from(plain.subarray(0, 8)), [0, 0, 8, 3, 0, 0, 0, 3]);
});

test('IDX: truncated, trailing bytes, bad magic and corrupt gzip are clear errors', () => {
  const plain = encodeIdx([10, 28, 28], pattern(7840, 2));
  assert.throws(() => parseIdx(plain.subarray(0, 1000), 'x.idx'), (e: Error) => e instanceof TruncatedFileError && /x\.idx/.test(e.message));
  assert.throws(() => parseIdx(plain.subarray(0, 10)), TruncatedFileError);
  assert.throws(() => parseIdx(plain.subarray(0, 2)), TruncatedFileError);
  const gz = gzipSync(plain);
  assert.throws(() => parseIdx(gz.subarray(0, gz.length - 20)), TruncatedFileError);
  const broken = Buffer.from(gz);
  broken[3] = 0xff; // reserved gzip flag bits
  assert.throws(() => parseIdx(broken), NotAnArchiveError);
  assert.throws(() => parseIdx(Buffer.concat([plain, Buffer.alloc(3)])), CorruptFileError);
  assert.throws(() => parseIdx(Uint8Array.from([1, 2, 8, 1, 0, 0, 0, 0])), CorruptFileError);
  assert.throws(() => parseIdx(Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 0])), /not unsigned byte/);
});

test('IDX image dataset: labels checked against images and classes', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const images = path.join(dir, 'img.gz');
    const labels = path.join(dir, 'lab.gz');
    writeFileSync(images, gzipSync(encodeIdx([4, 2, 3], pattern(24, 3))));
    writeFileSync(labels, gzipSync(encodeIdx([4], Uint8Array.from([3, 0, 1, 2]))));
    const pair = { name: 't', split: 'train', imagesFile: images, labelsFile: labels, classes: ['a', 'b', 'c', 'd'], mean: [0.5], std: [0.25] };
    const ds = await loadIdxImageDataset(pair);
    assert.equal(ds.count, 4);
    assert.deepEqual([ds.channels, ds.height, ds.width], [1, 2, 3]);
    assert.deepEqual(Array.from(ds.labels), [3, 0, 1, 2]);
    assert.deepEqual(imageAt(ds, 1), pattern(24, 3).subarray(6, 12));
    await assert.rejects(loadIdxImageDataset({ ...pair, classes: ['a', 'b'] }), CorruptFileError);
    writeFileSync(labels, encodeIdx([3], Uint8Array.from([0, 0, 1])));
    await assert.rejects(loadIdxImageDataset(pair), /3 labels for 4 images/);
  } finally {
    cleanup();
  }
});

test('bundled fashion-mnist-mini: 10,000 + 2,000 real images, 1,000 / 200 per class', async () => {
  const train = await loadDataset('fashion-mnist-mini', 'train');
  const testSplit = await loadDataset('fashion-mnist-mini', 'test');
  for (const [ds, perClass] of [[train, 1000], [testSplit, 200]] as const) {
    assert.deepEqual([ds.channels, ds.height, ds.width], [1, 28, 28]);
    assert.equal(ds.count, perClass * 10);
    const counts = new Array(10).fill(0);
    for (const l of ds.labels) counts[l]++;
    assert.deepEqual(counts, new Array(10).fill(perClass));
    assert.equal(ds.classes[9], 'Ankle boot');
  }
  // The first Fashion-MNIST training labels (9 ankle boot, 0 top, 0, 3 dress, 0, 2 pullover …).
  assert.deepEqual(Array.from(train.labels.subarray(0, 6)), [9, 0, 0, 3, 0, 2]);
  assert.ok(Math.abs(train.mean[0]! - 0.2867) < 1e-3 && Math.abs(train.std[0]! - 0.354) < 1e-3);
  assert.deepEqual(testSplit.mean, train.mean);
});

function cifarRecords(count: number, labelBytes: number, seed: number): { bytes: Buffer; labels: number[][]; images: Uint8Array[] } {
  const recordSize = labelBytes + 3072;
  const bytes = Buffer.alloc(count * recordSize);
  const labels: number[][] = [];
  const images: Uint8Array[] = [];
  for (let n = 0; n < count; n++) {
    const lab = Array.from({ length: labelBytes }, (_, k) => (n * 3 + seed + k * 5) % (k === 0 && labelBytes === 2 ? 20 : 10));
    const img = pattern(3072, seed * 100 + n);
    bytes.set(lab, n * recordSize);
    bytes.set(img, n * recordSize + labelBytes);
    labels.push(lab);
    images.push(img);
  }
  return { bytes, labels, images };
}

test('CIFAR-10: records from a tar.gz in the binary format load as CHW with their labels', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const batches = [1, 2, 3, 4, 5].map((b) => cifarRecords(3, 1, b));
    const testBatch = cifarRecords(2, 1, 9);
    const classes = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
    const archive = makeTarGz([
      { name: `${CIFAR10_FOLDER}/`, type: '5' },
      ...batches.map((b, i) => ({ name: `${CIFAR10_FOLDER}/data_batch_${i + 1}.bin`, data: b.bytes })),
      { name: `${CIFAR10_FOLDER}/test_batch.bin`, data: testBatch.bytes },
      { name: `${CIFAR10_FOLDER}/batches.meta.txt`, data: classes.join('\n') + '\n\n' },
    ]);
    const root = path.join(dir, 'root');
    mkdirSync(path.join(root, 'cifar10'), { recursive: true });
    const archivePath = path.join(root, 'cifar10', 'cifar-10-binary.tar.gz');
    writeFileSync(archivePath, archive);
    const spec = { file: 'cifar-10-binary.tar.gz', urls: [], size: archive.length, md5: createHash('md5').update(archive).digest('hex') };
    const folder = await ensureExtracted('cifar10', spec, CIFAR10_FOLDER, ['test_batch.bin'], { dataDir: root });
    assert.equal(folder, path.join(root, 'cifar10', CIFAR10_FOLDER));

    const train = await cifar10.load('train', { dataDir: root });
    assert.equal(train.count, 15);
    assert.deepEqual([train.channels, train.height, train.width], [3, 32, 32]);
    assert.deepEqual(Array.from(train.labels), batches.flatMap((b) => b.labels.map((l) => l[0]!)));
    assert.deepEqual(imageAt(train, 7), batches[2]!.images[1]);
    assert.deepEqual(train.classes, classes);
    const testSplit = await cifar10.load('test', { dataDir: root });
    assert.equal(testSplit.count, 2);
    assert.deepEqual(imageAt(testSplit, 1), testBatch.images[1]);
    // The registry's own archive checksum guards a hand-placed archive.
    const other = path.join(dir, 'other');
    mkdirSync(path.join(other, 'cifar10'), { recursive: true });
    writeFileSync(path.join(other, 'cifar10', 'cifar-10-binary.tar.gz'), archive);
    await assert.rejects(cifar10.load('train', { dataDir: other }), TruncatedFileError);
  } finally {
    cleanup();
  }
});

test('CIFAR-10: a truncated batch or a bad label is a clear error', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const folder = path.join(dir, 'cifar10', CIFAR10_FOLDER);
    mkdirSync(folder, { recursive: true });
    const good = cifarRecords(2, 1, 1).bytes;
    writeFileSync(path.join(folder, 'test_batch.bin'), good.subarray(0, good.length - 100));
    await assert.rejects(cifar10.load('test', { dataDir: dir }), (e: Error) => e instanceof TruncatedFileError && /test_batch\.bin/.test(e.message));
    const bad = Buffer.from(good);
    bad[0] = 10;
    writeFileSync(path.join(folder, 'test_batch.bin'), bad);
    await assert.rejects(cifar10.load('test', { dataDir: dir }), CorruptFileError);
    writeFileSync(path.join(folder, 'test_batch.bin'), Buffer.alloc(0));
    await assert.rejects(cifar10.load('test', { dataDir: dir }), TruncatedFileError);
    rmSync(path.join(folder, 'test_batch.bin'));
    mkdirSync(path.join(folder, 'test_batch.bin'));
    await assert.rejects(cifar10.load('test', { dataDir: dir }), (e: Error) => e instanceof CorruptFileError && /test_batch\.bin is a folder, not a data file/.test(e.message));
  } finally {
    cleanup();
  }
});

test('CIFAR-100: coarse and fine labels from two-byte records, names from the .txt files', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const folder = path.join(dir, 'cifar100', 'cifar-100-binary');
    mkdirSync(folder, { recursive: true });
    const recs = cifarRecords(4, 2, 2);
    writeFileSync(path.join(folder, 'test.bin'), recs.bytes);
    writeFileSync(path.join(folder, 'fine_label_names.txt'), Array.from({ length: 100 }, (_, i) => `fine${i}`).join('\n'));
    writeFileSync(path.join(folder, 'coarse_label_names.txt'), Array.from({ length: 20 }, (_, i) => `coarse${i}`).join('\n'));
    const ds = (await cifar100.load('test', { dataDir: dir })) as Cifar100Dataset;
    assert.equal(ds.count, 4);
    assert.deepEqual(Array.from(ds.labels), recs.labels.map((l) => l[1]!));
    assert.deepEqual(Array.from(ds.coarseLabels), recs.labels.map((l) => l[0]!));
    assert.equal(ds.classes[42], 'fine42');
    assert.equal(ds.coarseClasses[3], 'coarse3');
    assert.deepEqual(imageAt(ds, 3), recs.images[3]);
    // A CIFAR-10 file (3073-byte records) read as CIFAR-100 does not divide evenly.
    writeFileSync(path.join(folder, 'test.bin'), cifarRecords(5, 1, 1).bytes);
    await assert.rejects(cifar100.load('test', { dataDir: dir }), TruncatedFileError);
  } finally {
    cleanup();
  }
});

test('a hand-placed file with the wrong checksum is refused by the registry', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    mkdirSync(path.join(dir, 'mnist'));
    const file = path.join(dir, 'mnist', 't10k-labels-idx1-ubyte.gz');
    writeFileSync(file, gzipSync(encodeIdx([4542 - 20], new Uint8Array(4542 - 20))).subarray(0, 4542));
    writeFileSync(path.join(dir, 'mnist', 't10k-images-idx3-ubyte.gz'), Buffer.alloc(1_648_877));
    assert.equal(statSync(path.join(dir, 'mnist', 't10k-images-idx3-ubyte.gz')).size, 1_648_877);
    await assert.rejects(loadDataset('mnist', 'test', { dataDir: dir }), ChecksumMismatchError);
  } finally {
    cleanup();
  }
});
