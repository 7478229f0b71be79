// The native batch augmenter against the TypeScript reference, reproducibility by seed, and
// bad calls that must throw TypeError/RangeError rather than crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/data/transforms.js';
import { augmentBatch, augmentBatchAsync, augmentBatchReference, drawSeeds, planAugment } from '../../src/data/augment.js';
import { presetTransform } from '../../src/data/presets.js';
import { native } from '../../src/tensor/native.js';
import { Generator } from '../../src/tensor/random.js';
import { assertClose } from '../helpers/assert.js';

const g = new Generator(2024);
const rgb = { channels: 3, height: 12, width: 10 };
const gray = { channels: 1, height: 9, width: 9 };
const N = 24;

function randomImages(shape: typeof rgb, n: number): Uint8Array {
  const a = new Uint8Array(n * shape.channels * shape.height * shape.width);
  for (let i = 0; i < a.length; i++) a[i] = g.nextUint32() & 255;
  return a;
}

const rgbImages = randomImages(rgb, N), grayImages = randomImages(gray, N);
const indices = Int32Array.from({ length: N }, (_, i) => (i * 5 + 3) % N);
const seeds = drawSeeds(g, N);
/** float32 kernel vs float64 reference: rounding only. */
const TOL = { atol: 2e-5, rtol: 1e-5 };

// The presets read these facts from the dataset: CIFAR-10's statistics, and digits not flipped.
const cifar10 = { name: 'cifar10', ...rgb, mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616] };
const mnist = { name: 'mnist', ...gray, mean: [0.1307], std: [0.3081], flipsKeepClass: false };
const pipelines: Record<string, { shape: typeof rgb; t: T.Transform[] }> = {
  cifar: { shape: rgb, t: presetTransform(cifar10, 'basic').transforms as T.Transform[] },
  cifarStrong: { shape: rgb, t: presetTransform(cifar10, 'strong').transforms as T.Transform[] },
  mnistStrong: { shape: gray, t: presetTransform(mnist, 'strong').transforms as T.Transform[] },
  padModes: { shape: rgb, t: [
    new T.RandomCrop([11, 9], { padding: [1, 2, 3, 0], paddingMode: 'reflect' }),
    new T.RandomCrop([14, 13], { padding: 2, paddingMode: 'symmetric' }),
    new T.RandomCrop([16, 16], { padding: [1, 1], padIfNeeded: true, paddingMode: 'edge' }),
    new T.RandomCrop([20, 20], { padding: 1, padIfNeeded: true, paddingMode: 'reflect' }),
    new T.RandomCrop([22, 21], { padIfNeeded: true, fill: [10, 200, 30] }),
  ] },
  geometry: { shape: rgb, t: [
    new T.RandomResizedCrop([8, 7]), new T.RandomVerticalFlip(), new T.RandomHorizontalFlip(0.3),
    new T.Resize(11), new T.CenterCrop([9, 13]), new T.RandomRotation(180, { fill: [255, 0, 128] }),
  ] },
  resizedCropShapes: { shape: rgb, t: [new T.RandomResizedCrop(20, { scale: [0.5, 1.5], ratio: [0.2, 5] })] },
  bilinearRotation: { shape: gray, t: [new T.RandomRotation([-90, 90], { interpolation: 'bilinear', fill: 77 })] },
  color: { shape: rgb, t: [
    new T.ColorJitter({ brightness: 0.5, contrast: [0.2, 1.8], saturation: 0.9, hue: 0.5 }), new T.RandomGrayscale(0.5),
  ] },
  erasing: { shape: rgb, t: [
    new T.ToTensor(), new T.Normalize([0.5, 0.4, 0.3], [0.2, 0.3, 0.4]),
    new T.RandomErasing({ p: 1, value: [1, 2, 3] }), new T.RandomErasing({ p: 0.7, value: 'random', scale: [0.1, 0.5] }),
  ] },
};

test('native batch augmentation matches the TypeScript reference for every transform', () => {
  for (const [name, { shape, t }] of Object.entries(pipelines)) {
    const transform = new T.Compose(t);
    const images = shape === rgb ? rgbImages : grayImages;
    const plan = planAugment(transform, shape);
    const want = augmentBatchReference(transform, shape, images, indices, seeds);
    for (const threads of [1, 2, 3]) {
      assertClose(augmentBatch(plan, images, indices, seeds, threads), want, TOL, `${name}, ${threads} threads`);
    }
  }
});

test('augmentations actually vary with the seed and repeat with it', () => {
  const transform = new T.Compose(pipelines.geometry.t);
  const plan = planAugment(transform, rgb);
  const same = Int32Array.from({ length: N }, () => 0);
  const a = augmentBatch(plan, rgbImages, same, seeds, 2);
  const b = augmentBatch(plan, rgbImages, same, seeds.slice(), 1);
  assert.deepEqual(a, b);
  const per = a.length / N;
  let distinct = 0;
  for (let k = 1; k < N; k++) if (a.subarray(k * per, (k + 1) * per).some((v, i) => v !== a[i])) distinct++;
  assert.ok(distinct >= N - 3, `one image with different seeds gave only ${distinct + 1} distinct results`);
  const other = augmentBatch(plan, rgbImages, same, drawSeeds(new Generator(9), N), 2);
  assert.notDeepEqual(other, a);
});

test('the async binding gives the same batch as the sync one', async () => {
  const plan = planAugment(new T.Compose(pipelines.cifarStrong.t), rgb);
  const want = augmentBatch(plan, rgbImages, indices, seeds, 1);
  const got = await Promise.all([augmentBatchAsync(plan, rgbImages, indices, seeds, 2), augmentBatchAsync(plan, rgbImages, indices, seeds, 1)]);
  assert.deepEqual(got[0], want);
  assert.deepEqual(got[1], want);
});

test('the native and TypeScript shape walks agree, and impossible pipelines are refused', () => {
  assert.deepEqual(native.augmentOutputShape([3, 12, 10], planAugment(new T.Compose(pipelines.geometry.t), rgb).ops), [3, 9, 13]);
  assert.throws(() => native.augmentOutputShape([3, 12, 10], [{ kind: 'randomCrop', height: 20, width: 10, padding: [0, 0, 0, 0], padIfNeeded: false, paddingMode: 0, fill: [0, 0, 0] }]), RangeError);
  assert.throws(() => native.augmentOutputShape([4, 8, 8], [{ kind: 'colorJitter', brightness: [0.5, 1], contrast: null, saturation: null, hue: null }]), RangeError);
});

test('bad native calls throw TypeError/RangeError with a message', () => {
  const plan = planAugment(new T.Compose(pipelines.cifar.t), rgb);
  const shape = [3, 12, 10];
  const out = new Float32Array(N * 3 * 12 * 10);
  const params = () => ({ images: rgbImages, imageShape: shape, indices, seeds, ops: plan.ops, out, threads: 1 });
  const ok = () => native.augmentBatch(params());
  ok();
  type Params = Parameters<typeof native.augmentBatch>[0];
  const call = (patch: (p: { -readonly [K in keyof Params]: Params[K] }) => void) => () => {
    const p = params();
    patch(p);
    native.augmentBatch(p);
  };
  const bad = (v: unknown) => v as never;
  const cases: [string, () => void, ErrorConstructor][] = [
    ['too few arguments', () => (native.augmentBatch as unknown as (...a: unknown[]) => void)(), TypeError],
    ['positional arguments', () => (native.augmentBatch as unknown as (...a: unknown[]) => void)(rgbImages, shape, indices, seeds, plan.ops, out, 1), TypeError],
    ['params not object', () => native.augmentBatch(bad([rgbImages])), TypeError],
    ['missing images', call((a) => { a.images = bad(undefined); }), TypeError],
    ['images not Uint8Array', call((a) => { a.images = bad(new Float32Array(rgbImages.length)); }), TypeError],
    ['images not whole', call((a) => { a.images = rgbImages.subarray(1); }), RangeError],
    ['shape rank', call((a) => { a.imageShape = [3, 12]; }), RangeError],
    ['five channels', call((a) => { a.imageShape = [5, 12, 10]; }), RangeError],
    ['shape not array', call((a) => { a.imageShape = bad('3x12x10'); }), TypeError],
    ['indices type', call((a) => { a.indices = bad(Uint32Array.from(indices)); }), TypeError],
    ['index too large', call((a) => { a.indices = Int32Array.from(indices, (v, i) => (i === 3 ? N : v)); }), RangeError],
    ['negative index', call((a) => { a.indices = Int32Array.from(indices, (v, i) => (i === 0 ? -1 : v)); }), RangeError],
    ['seeds type', call((a) => { a.seeds = bad(new Int32Array(N)); }), TypeError],
    ['seeds length', call((a) => { a.seeds = seeds.subarray(1); }), RangeError],
    ['ops not array', call((a) => { a.ops = bad({}); }), TypeError],
    ['op not object', call((a) => { a.ops = bad([42]); }), TypeError],
    ['unknown kind', call((a) => { a.ops = [{ kind: 'sharpen' }]; }), RangeError],
    ['missing field', call((a) => { a.ops = [{ kind: 'horizontalFlip' }]; }), TypeError],
    ['p out of range', call((a) => { a.ops = [{ kind: 'horizontalFlip', p: 2 }]; }), RangeError],
    ['NaN size', call((a) => { a.ops = [{ kind: 'resize', height: NaN, width: 4 }]; }), TypeError],
    ['fractional size', call((a) => { a.ops = [{ kind: 'centerCrop', height: 2.5, width: 4 }]; }), TypeError],
    ['fill per channel', call((a) => { a.ops = [{ kind: 'rotation', degrees: [0, 1], interpolation: 'nearest', fill: [0] }]; }), RangeError],
    ['interpolation', call((a) => { a.ops = [{ kind: 'rotation', degrees: [0, 1], interpolation: 'bicubic', fill: [0, 0, 0] }]; }), RangeError],
    ['reversed range', call((a) => { a.ops = [{ kind: 'randomResizedCrop', height: 4, width: 4, scale: [1, 0.5], ratio: [1, 1] }]; }), RangeError],
    ['zero std', call((a) => { a.ops = [{ kind: 'normalize', mean: [0, 0, 0], std: [1, 0, 1] }]; }), RangeError],
    ['padding mode', call((a) => { a.ops = [{ kind: 'randomCrop', height: 4, width: 4, padding: [0, 0, 0, 0], padIfNeeded: false, paddingMode: 7, fill: [0, 0, 0] }]; }), RangeError],
    ['crop too large', call((a) => { a.ops = [{ kind: 'randomCrop', height: 40, width: 4, padding: [0, 0, 0, 0], padIfNeeded: false, paddingMode: 0, fill: [0, 0, 0] }]; }), RangeError],
    ['out type', call((a) => { a.out = bad(new Float64Array(out.length)); }), TypeError],
    ['out too short', call((a) => { a.out = out.subarray(1); }), RangeError],
    ['out for another shape', call((a) => { a.ops = [{ kind: 'centerCrop', height: 4, width: 4 }]; }), RangeError],
    ['threads zero', call((a) => { a.threads = 0; }), RangeError],
    ['threads fractional', call((a) => { a.threads = 1.5; }), TypeError],
  ];
  for (const [label, fn, kind] of cases) {
    assert.throws(fn, (err: Error) => err instanceof kind && err.message.startsWith('augmentBatch: '), label);
  }
  // The async form checks the same arguments synchronously.
  assert.throws(() => native.augmentBatchAsync({ ...params(), seeds: seeds.subarray(1) }), RangeError);
  ok();
});

test('an empty batch is allowed and writes nothing', () => {
  const plan = planAugment(new T.Compose(pipelines.cifar.t), rgb);
  assert.equal(augmentBatch(plan, rgbImages, new Int32Array(0), new Uint32Array(0), 2).length, 0);
});
