// --auto-augment: every op against torchvision's functional ops (test/fixtures/gen_auto_augment.py),
// the magnitude tables and the ImageNet policy against torchvision's, the distribution of the ops
// each transform draws, reproducibility by seed, the timm grammar, and bad native calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AutoAugment, RandAugment, TrivialAugmentWide, IMAGENET_POLICY, CIFAR10_POLICY, SVHN_POLICY, augmentationSpace, autoAugmentTransform, parseAutoAugment,
  type AutoAugmentOp, type SpaceOp,
} from '../../src/data/auto-augment.js';
import { applyAutoAugmentOp, sampleAutoAugment } from '../../src/data/auto-augment-ops.js';
import { augmentBatch, augmentBatchReference, drawSeeds, planAugment } from '../../src/data/augment.js';
import { Compose, RandomCrop, RandomHorizontalFlip, ToTensor, type Transform } from '../../src/data/transforms.js';
import type { ImageShape } from '../../src/data/image.js';
import { native } from '../../src/tensor/native.js';
import { Generator } from '../../src/tensor/random.js';
import { openPhotoSplits } from '../../src/data/photo-splits.js';
import type { StreamingLoader } from '../../src/data/stream-loader.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { loadFixture } from '../helpers/fixtures.js';
import { writeTinyImageFolder } from '../helpers/tiny-dataset.js';
import { withTempDir } from '../helpers/tmp.js';
import { runCli } from '../helpers/cli.js';
import { join } from 'node:path';

interface OpCase { kind: 'op'; image: string; op: string; magnitude: number; interpolation: 'nearest' | 'bilinear'; fill: number[] | null }
interface SpaceCase { kind: 'space'; transform: 'randAugment' | 'trivialAugmentWide' | 'autoAugment'; numBins: number; height: number; width: number; space: SpaceOp[] }
interface PolicyCase { kind: 'policy'; policy: string; policies: [string, number, number | null][][] }
type Case = OpCase | SpaceCase | PolicyCase | { kind: 'image' };

const cases = loadFixture<Case>('auto_augment.safetensors');
const images = new Map(cases.filter((c) => c.params.kind === 'image').map((c) => [c.name.slice('image/'.length), c.t.x!]));
const GEOMETRIC = new Set(['ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'Rotate']);

/** One op at one magnitude: a one-step policy applied with probability 1. */
function singleOp(c: OpCase): AutoAugmentOp {
  return { kind: 'autoAugment', mode: 'policy', policies: [[{ op: c.op as never, p: 1, magnitude: c.magnitude, signed: false }]], interpolation: c.interpolation, fill: c.fill };
}

test('each op matches torchvision on uint8 images: pixel ops and nearest exactly, bilinear within 1; native and the TypeScript reference agree exactly', () => {
  let checked = 0, bilinearOff = 0, bilinearPixels = 0;
  for (const c of cases) {
    if (c.params.kind !== 'op') continue;
    const p = c.params;
    const x = images.get(p.image)!;
    const image = Uint8Array.from(x.data);
    const applied = native.autoAugmentImage({ image, imageShape: x.shape, op: singleOp(p), seed: 7 });
    assert.deepEqual(applied, [[p.op, p.magnitude]], c.name);
    const reference = Uint8Array.from(x.data);
    applyAutoAugmentOp(p.op as never, p.magnitude, { bilinear: p.interpolation === 'bilinear', fill: p.fill }, reference, x.shape[0]!, x.shape[1]!, x.shape[2]!);
    assert.deepEqual(image, reference, `${c.name}: native vs reference`);
    const want = c.t.y!.data;
    if (p.interpolation === 'bilinear' && GEOMETRIC.has(p.op)) {
      // float32 grid and weights summed in another order than grid_sample's: a pixel may round the other way.
      for (let i = 0; i < want.length; i++) {
        assert.ok(Math.abs(image[i]! - want[i]!) <= 1, `${c.name} pixel ${i}: ${image[i]} vs ${want[i]}`);
        if (image[i] !== want[i]) bilinearOff++;
      }
      bilinearPixels += want.length;
    } else {
      assert.deepEqual(Array.from(image), Array.from(want), c.name);
    }
    checked++;
  }
  assert.ok(checked > 250, `only ${checked} op cases`);
  assert.ok(bilinearOff <= bilinearPixels * 0.01, `${bilinearOff} of ${bilinearPixels} bilinear pixels off by one`);
});

test('in a float pipeline the op sees the uint8 image: torchvision exactly after a lossless round trip', () => {
  for (const name of ['Equalize/rgb/nearest/none/0.0', 'Rotate/gray/nearest/fill/-30.0', 'Sharpness/rgb/nearest/none/-0.27']) {
    const c = cases.find((k) => k.name === name)!;
    const p = c.params as OpCase;
    const x = images.get(p.image)!;
    const shape = { channels: x.shape[0]!, height: x.shape[1]!, width: x.shape[2]! };
    const plan = { input: shape, output: shape, ops: [singleOp(p)] };
    const out = augmentBatch(plan, Uint8Array.from(x.data), Int32Array.of(0), Uint32Array.of(3), 1);
    assert.deepEqual(Array.from(out), Array.from(c.t.y!.data, (v) => Math.fround(v / 255)), name);
  }
});

test("magnitude tables are torchvision's _augmentation_space (within one float32 ulp of torch.linspace) and the ImageNet policy is its own", () => {
  for (const c of cases) {
    if (c.params.kind !== 'space') continue;
    const p = c.params;
    const got = augmentationSpace(p.transform, p.numBins, p.height, p.width);
    assert.deepEqual(got.map((s) => [s.op, s.signed, s.magnitudes.length]), p.space.map((s) => [s.op, s.signed, s.magnitudes.length]), c.name);
    got.forEach((s, i) => s.magnitudes.forEach((m, k) => {
      const want = p.space[i]!.magnitudes[k]!;
      assert.ok(Math.abs(m - want) <= Math.abs(want) * 2 ** -23, `${c.name} ${s.op}[${k}]: ${m} vs ${want}`);
      if (s.op === 'Posterize') assert.equal(m, want);
    }));
  }
  const tables: Record<string, typeof IMAGENET_POLICY> = { imagenet: IMAGENET_POLICY, cifar10: CIFAR10_POLICY, svhn: SVHN_POLICY };
  const policies = cases.filter((c) => c.params.kind === 'policy').map((c) => c.params as PolicyCase);
  assert.deepEqual(policies.map((p) => p.policy).sort(), Object.keys(tables).sort());
  for (const p of policies) assert.deepEqual(tables[p.policy]!.map((steps) => steps.map((s) => [...s])), p.policies, p.policy);
});

/** The ops a transform applies to `n` samples (a pipeline of it alone). */
function drawMany(t: Transform, shape: ImageShape, n: number, seed = 11): [string, number][][] {
  const op = t.describe(shape).ops[0]!;
  const image = new Uint8Array(shape.channels * shape.height * shape.width);
  const gen = new Generator(seed);
  return Array.from({ length: n }, (_, k) => {
    const s = gen.nextUint32();
    const drawn = native.autoAugmentImage({ image: image.fill(128), imageShape: [shape.channels, shape.height, shape.width], op, seed: s });
    // The reference draws the same ops (checked on a sample of seeds: it is slower). Gaussian
    // noise goes through libm's log/sin/cos, which V8 and the C library may round differently.
    if (k % 50 === 0) {
      const ref = sampleAutoAugment(op as AutoAugmentOp, new Generator(s));
      assert.deepEqual(ref.map(([name]) => name), drawn.map(([name]) => name), `seed ${s}`);
      ref.forEach(([, m], i) => assert.ok(Math.abs(m - drawn[i]![1]) <= 1e-12 * Math.abs(m), `seed ${s}: ${m} vs ${drawn[i]![1]}`));
    }
    return drawn;
  });
}

/** |observed - expected| within 5 standard deviations of a binomial count (and a little slack). */
function assertCount(observed: number, n: number, p: number, what: string): void {
  const sd = Math.sqrt(n * p * (1 - p));
  assert.ok(Math.abs(observed - n * p) <= 5 * sd + 2, `${what}: ${observed} of ${n}, expected ${(n * p).toFixed(1)} ± ${(5 * sd).toFixed(1)}`);
}

const shape = { channels: 3, height: 6, width: 8 };

test('TrivialAugmentWide draws one op uniformly, one of its 31 bins uniformly and the sign by a fair coin', () => {
  const n = 14000;
  const draws = drawMany(new TrivialAugmentWide(), shape, n);
  const space = augmentationSpace('trivialAugmentWide', 31, shape.height, shape.width);
  assert.ok(draws.every((d) => d.length === 1));
  for (const s of space) {
    const mine = draws.filter((d) => d[0]![0] === s.op).map((d) => d[0]![1]);
    assertCount(mine.length, n, 1 / space.length, s.op);
    if (s.magnitudes.length === 0) {
      assert.ok(mine.every((m) => m === 0), s.op);
      continue;
    }
    for (const m of mine) assert.ok(s.magnitudes.includes(s.signed ? Math.abs(m) : m), `${s.op} magnitude ${m} is not a bin`);
    if (s.signed) assertCount(mine.filter((m) => m < 0).length, mine.length, 0.5 * (30 / 31), `${s.op} negative`);
    // The top third of the bins (20..30 of 0..30) by the absolute magnitude.
    const top = s.op === 'Posterize' ? mine.filter((m) => m <= 4).length : mine.filter((m) => Math.abs(m) >= s.magnitudes[20]!).length;
    if (s.op !== 'Posterize' && s.op !== 'Solarize') assertCount(top, mine.length, 11 / 31, `${s.op} top bins`);
  }
});

test('RandAugment applies numOps ops at the bin of its magnitude; timm mstd adds clipped Gaussian noise per op', () => {
  const n = 6000;
  const fixed = drawMany(new RandAugment({ numOps: 3, magnitude: 9 }), shape, n);
  const space = augmentationSpace('randAugment', 31, shape.height, shape.width);
  assert.ok(fixed.every((d) => d.length === 3));
  for (const s of space) {
    const mine = fixed.flat().filter(([op]) => op === s.op).map(([, m]) => m);
    assertCount(mine.length, 3 * n, 1 / space.length, s.op);
    const want = s.magnitudes.length ? s.magnitudes[9]! : 0;
    assert.ok(mine.every((m) => (s.signed ? Math.abs(m) : m) === want), `${s.op} at bin 9`);
    if (s.signed) assertCount(mine.filter((m) => m < 0).length, mine.length, 0.5, `${s.op} negative`);
  }
  // rand-m9-mstd0.5 on timm's scale: level 27 of 30 bins, std 1.5 bins; Rotate's 30° at 30 makes it degrees.
  const t = autoAugmentTransform(parseAutoAugment('rand-m9-mstd0.5')) as RandAugment;
  assert.deepEqual([t.numOps, t.magnitude, t.magnitudeStd, t.numMagnitudeBins], [2, 27, 1.5, 31]);
  const rotations = drawMany(t, shape, 20000).flat().filter(([op]) => op === 'Rotate').map(([, m]) => Math.abs(m));
  const mean = rotations.reduce((a, b) => a + b, 0) / rotations.length;
  const sd = Math.sqrt(rotations.reduce((a, b) => a + (b - mean) ** 2, 0) / rotations.length);
  // The noise is clipped at level 30 (30°): the mean falls a little below 27°, the spread below 1.5°.
  assert.ok(mean > 26.3 && mean < 27, `mean |rotation| ${mean}`);
  assert.ok(sd > 1.1 && sd < 1.5, `rotation spread ${sd}`);
  assert.ok(rotations.every((r) => r >= 0 && r <= 30));
  assert.ok(new Set(rotations).size > 1000, 'magnitudes between bins');
});

test('AutoAugment (ImageNet, CIFAR-10, SVHN): each (op, magnitude) as often as the 25 sub-policies and their probabilities say', () => {
  const n = 10000;
  const tables = { imagenet: IMAGENET_POLICY, cifar10: CIFAR10_POLICY, svhn: SVHN_POLICY };
  const space = new Map(augmentationSpace('autoAugment', 10, shape.height, shape.width).map((s) => [s.op, s]));
  for (const [policy, table] of Object.entries(tables) as [keyof typeof tables, typeof IMAGENET_POLICY][]) {
    const draws = drawMany(new AutoAugment({ policy }), shape, n);
    const expected = new Map<string, number>();
    for (const steps of table) {
      for (const [op, p, bin] of steps) {
        const s = space.get(op)!;
        const m = bin === null ? 0 : s.magnitudes[bin]!;
        const signs = s.signed && m !== 0 ? [m, -m] : [m];
        for (const v of signs) expected.set(`${op} ${v}`, (expected.get(`${op} ${v}`) ?? 0) + p / 25 / signs.length);
      }
    }
    const observed = new Map<string, number>();
    for (const [op, m] of draws.flat()) observed.set(`${op} ${m}`, (observed.get(`${op} ${m}`) ?? 0) + 1);
    assert.deepEqual([...observed.keys()].filter((k) => !expected.has(k)), [], policy);
    for (const [key, rate] of expected) assertCount(observed.get(key) ?? 0, n, Math.min(rate, 1), `${policy} ${key}`);
    assert.ok(draws.every((d) => d.length <= 2));
  }
});

test('the same seed gives the same images at any thread count, other seeds differ, and the TypeScript reference gives them too', () => {
  const pipeline = new Compose([new RandomCrop(8, { padding: 1 }), new RandomHorizontalFlip(), new TrivialAugmentWide(), new ToTensor()]);
  const input = { channels: 3, height: 8, width: 8 };
  const g = new Generator(5);
  const n = 32;
  const imgs = Uint8Array.from({ length: n * 192 }, () => g.nextUint32() & 255);
  const indices = Int32Array.from({ length: n }, (_, i) => i);
  const seeds = drawSeeds(g, n);
  const plan = planAugment(pipeline, input);
  const one = augmentBatch(plan, imgs, indices, seeds, 1);
  assert.deepEqual(augmentBatch(plan, imgs, indices, seeds, 2), one);
  assert.deepEqual(augmentBatchReference(pipeline, input, imgs, indices, seeds), one);
  assert.notDeepEqual(augmentBatch(plan, imgs, indices, drawSeeds(g, n), 1), one);
  for (const t of [new RandAugment({ numOps: 3, magnitude: 14 }), new AutoAugment({ fill: [1, 2, 3], interpolation: 'bilinear' })]) {
    const p = planAugment(new Compose([t]), input);
    assert.deepEqual(augmentBatchReference(new Compose([t]), input, imgs, indices, seeds), augmentBatch(p, imgs, indices, seeds, 2));
  }
});

test("timm's grammar: rand[-m<M>][-n<N>][-mstd<S>], trivial and imagenet; anything else is refused", () => {
  assert.deepEqual(parseAutoAugment('rand-m9-mstd0.5'), { kind: 'rand', m: 9, n: 2, mstd: 0.5 });
  assert.deepEqual(parseAutoAugment('rand-m7-n3'), { kind: 'rand', m: 7, n: 3, mstd: 0 });
  assert.deepEqual(parseAutoAugment('rand'), { kind: 'rand', m: 10, n: 2, mstd: 0 });
  assert.deepEqual(parseAutoAugment('trivial'), { kind: 'trivial' });
  assert.ok(autoAugmentTransform(parseAutoAugment('imagenet')) instanceof AutoAugment);
  assert.equal((autoAugmentTransform(parseAutoAugment('svhn')) as AutoAugment).policy, 'svhn');
  assert.equal((autoAugmentTransform(parseAutoAugment('cifar10')) as AutoAugment).policy, 'cifar10');
  assert.ok(autoAugmentTransform(parseAutoAugment('trivial')) instanceof TrivialAugmentWide);
  for (const bad of ['rand-m11', 'rand-x3', 'rand-n2.5', 'augmix', 'rand-m', 'cifar100', 'toString', 'rand-mstd-1']) {
    assert.throws(() => parseAutoAugment(bad), RangeError, bad);
  }
  assert.throws(() => new RandAugment({ magnitude: 31 }), RangeError);
  assert.throws(() => new TrivialAugmentWide({ fill: 300 }), RangeError);
  assert.throws(() => new AutoAugment({ policy: 'mnist' as never }), RangeError);
  assert.throws(() => new TrivialAugmentWide().describe({ channels: 4, height: 4, width: 4 }), RangeError);
});

test('bad autoAugment ops and calls throw TypeError/RangeError', () => {
  const good = new TrivialAugmentWide().describe(shape).ops[0] as AutoAugmentOp & { space: SpaceOp[] };
  const image = new Uint8Array(3 * 6 * 8);
  const call = (patch: Record<string, unknown>, params: Record<string, unknown> = {}) => () =>
    native.autoAugmentImage({ image, imageShape: [3, 6, 8], op: { ...good, ...patch }, seed: 1, ...params } as never);
  call({})();
  const bad: [string, () => void, ErrorConstructor][] = [
    ['mode', call({ mode: 'augmix' }), RangeError],
    ['op name', call({ space: [{ op: 'Blur', signed: false, magnitudes: [] }] }), RangeError],
    ['empty space', call({ space: [] }), RangeError],
    ['space not array', call({ space: {} }), TypeError],
    ['magnitude not finite', call({ space: [{ op: 'Rotate', signed: true, magnitudes: [NaN] }] }), RangeError],
    ['fill range', call({ fill: [0, 0, 256] }), RangeError],
    ['fill per channel', call({ fill: [0] }), RangeError],
    ['interpolation', call({ interpolation: 'bicubic' }), RangeError],
    ['policy p', call({ mode: 'policy', policies: [[{ op: 'Invert', p: 1.5, magnitude: 0, signed: false }]] }), RangeError],
    ['rand numOps', call({ mode: 'rand', numOps: 65, level: 1, levelStd: 0, levelMax: 30 }), RangeError],
    ['image length', call({}, { image: new Uint8Array(10) }), RangeError],
    ['image type', call({}, { image: new Float32Array(144) }), TypeError],
    ['four channels', call({}, { imageShape: [4, 6, 8], image: new Uint8Array(192) }), RangeError],
    ['seed', call({}, { seed: -1 }), RangeError],
    ['not autoAugment', () => native.autoAugmentImage({ image, imageShape: [3, 6, 8], op: { kind: 'horizontalFlip', p: 1 }, seed: 0 }), RangeError],
  ];
  for (const [name, fn, type] of bad) assert.throws(fn, (e: Error) => e instanceof type && e.message.length > 0, name);
  assert.throws(() => planAugment(new Compose([new TrivialAugmentWide()]), { channels: 2, height: 4, width: 4 }), RangeError);
});

async function batches(loader: StreamingLoader): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for await (const b of loader) out.push(b.x.data);
  return out;
}

test('streamed image folders: --auto-augment changes the training batches only, and `cnn train` records it', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const images = join(dir, 'images');
    const args = await writeTinyImageFolder(images, 8);
    const o = { dataDir: images, valSplit: 0.25, seed: 4, imageSize: 12, augment: 'basic' as const };
    const plain = await openPhotoSplits(o, { batchSize: 4 }, { batchSize: 4 });
    const auto = await openPhotoSplits({ ...o, autoAugment: 'imagenet' }, { batchSize: 4 }, { batchSize: 4 });
    assert.deepEqual(await batches(auto.val), await batches(plain.val));
    const [a, b] = [await batches(auto.train), await batches(plain.train)];
    assert.equal(a.length, b.length);
    assert.ok(a.some((x, i) => x.some((v, k) => v !== b[i]![k])), 'AutoAugment left every training batch as it was');
    const out = join(dir, 'run');
    const r = runCli(['train', ...args, '--auto-augment', 'trivial', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((loadCheckpoint(join(out, 'last.bin')).training as { config: { autoAugment?: string } }).config.autoAugment, 'trivial');
  } finally {
    cleanup();
  }
});
