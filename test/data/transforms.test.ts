// The functional forms (TS reference) and the native augmenter against torchvision 0.14
// (test/fixtures/gen.py, gen_transforms). Inputs are uint8 images; outputs float tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as F from '../../src/data/functional.js';
import * as T from '../../src/data/transforms.js';
import { toTensorImage, type FloatImage, type ImageShape } from '../../src/data/image.js';
import { planAugment, augmentBatch } from '../../src/data/augment.js';
import { Generator } from '../../src/tensor/random.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { loadFixture, type FixtureCase } from '../helpers/fixtures.js';
import { assertClose, FORWARD } from '../helpers/assert.js';

interface TransformCase {
  op: string;
  mean?: number[]; std?: number[];
  padding?: [number, number, number, number]; mode?: F.PaddingMode; fill?: number | number[];
  top?: number; left?: number; height?: number; width?: number; outHeight?: number; outWidth?: number;
  channels?: 1 | 3; angle?: number; interpolation?: F.Interpolation; factor?: number; value?: number[]; pil?: boolean;
}

const cases = loadFixture<TransformCase>('transforms.safetensors');

function pixels(x: Tensor): { bytes: Uint8Array; shape: ImageShape } {
  const [channels, height, width] = x.shape;
  return { bytes: Uint8Array.from(x.data), shape: { channels, height, width } };
}

function input(x: Tensor): FloatImage {
  const { bytes, shape } = pixels(x);
  return toTensorImage(bytes, shape);
}

/** PIL rounds to uint8 after resampling: allow one level. */
const PIL = { atol: 1 / 255 + 1e-6, rtol: 0 };

function reference(c: FixtureCase<TransformCase>): FloatImage {
  const p = c.params, x = input(c.t.x);
  switch (p.op) {
    case 'toTensor': return x;
    case 'normalize': return F.normalize(x, p.mean!, p.std!);
    case 'hflip': return F.hflip(x);
    case 'vflip': return F.vflip(x);
    case 'padCrop': return F.crop(F.pad(x, p.padding!, p.fill!, p.mode!), p.top!, p.left!, p.height!, p.width!);
    case 'crop': return F.crop(x, p.top!, p.left!, p.height!, p.width!);
    case 'centerCrop': return F.centerCrop(x, p.height!, p.width!);
    case 'grayscale': return F.rgbToGrayscale(x, p.channels!);
    case 'resize': return F.resize(x, p.height!, p.width!);
    case 'resizedCrop': return F.resizedCrop(x, p.top!, p.left!, p.height!, p.width!, p.outHeight!, p.outWidth!);
    case 'rotate': return F.rotate(x, p.angle!, { interpolation: p.interpolation!, fill: p.fill! });
    case 'brightness': return F.adjustBrightness(x, p.factor!);
    case 'contrast': return F.adjustContrast(x, p.factor!);
    case 'saturation': return F.adjustSaturation(x, p.factor!);
    case 'hue': return F.adjustHue(x, p.factor!);
    case 'erase': return F.erase(F.normalize(x, p.mean!, p.std!), p.top!, p.left!, p.height!, p.width!, p.value!);
    default: throw new Error(`unknown fixture op ${p.op}`);
  }
}

test('functional forms match torchvision for every fixture case', () => {
  assert.ok(cases.length >= 40);
  for (const c of cases) {
    const got = reference(c);
    const want = c.t.out;
    assert.deepEqual([got.channels, got.height, got.width], [...want.shape], `${c.name}: shape`);
    assertClose(got.data, want.data, c.params.pil ? PIL : FORWARD, c.name);
  }
});

// The same cases through the native augmenter, as deterministic transforms (p = 1, fixed ranges).
function deterministic(p: TransformCase): T.Transform[] | null {
  switch (p.op) {
    case 'toTensor': return [new T.ToTensor()];
    case 'normalize': return [new T.ToTensor(), new T.Normalize(p.mean!, p.std!)];
    case 'hflip': return [new T.RandomHorizontalFlip(1)];
    case 'vflip': return [new T.RandomVerticalFlip(1)];
    case 'centerCrop': return [new T.CenterCrop([p.height!, p.width!])];
    case 'grayscale': return p.channels === 3 ? [new T.RandomGrayscale(1)] : null;
    case 'resize': return [new T.Resize([p.height!, p.width!])];
    case 'rotate': return [new T.RandomRotation([p.angle!, p.angle!], {
      interpolation: p.interpolation, fill: (p.fill as number[]).map((v) => v * 255) })];
    case 'brightness': return [new T.ColorJitter({ brightness: [p.factor!, p.factor!] })];
    case 'contrast': return [new T.ColorJitter({ contrast: [p.factor!, p.factor!] })];
    case 'saturation': return [new T.ColorJitter({ saturation: [p.factor!, p.factor!] })];
    case 'hue': return [new T.ColorJitter({ hue: [p.factor!, p.factor!] })];
    // Padding 0 and a crop of the padded size: the pad alone, with no random offset.
    case 'padCrop': return null;
    default: return null;
  }
}

test('native augmenter matches torchvision on the deterministic cases', () => {
  let checked = 0;
  for (const c of cases) {
    const list = deterministic(c.params);
    if (!list) continue;
    const { bytes, shape } = pixels(c.t.x);
    const plan = planAugment(new T.Compose(list), shape);
    for (const threads of [1, 2]) {
      const out = augmentBatch(plan, bytes, Int32Array.of(0), Uint32Array.of(12345), threads);
      assert.deepEqual([plan.output.channels, plan.output.height, plan.output.width], [...c.t.out.shape], `${c.name}: shape`);
      assertClose(out, c.t.out.data, c.params.pil ? PIL : FORWARD, `native ${c.name}`);
    }
    checked++;
  }
  assert.ok(checked >= 25, `checked ${checked} cases`);
});

test('RandomCrop pads in every mode exactly as pad + crop at the drawn offsets', () => {
  const x = input(cases.find((c) => c.name === 'hflip')!.t.x);
  for (const mode of F.PADDING_MODES) {
    const t = new T.RandomCrop([8, 10], { padding: [2, 1, 3, 4], paddingMode: mode, fill: [64, 128, 255] });
    const seed = 77;
    const gen = new Generator(seed);
    const padded = F.pad(x, [2, 1, 3, 4], [64 / 255, 128 / 255, 1], mode);
    const top = gen.randint(padded.height - 8 + 1), left = gen.randint(padded.width - 10 + 1);
    const want = F.crop(padded, top, left, 8, 10);
    assertClose(t.apply(x, new Generator(seed)).data, want.data, FORWARD, `RandomCrop ${mode}`);
  }
});

test('rotation is counter-clockwise for positive angles', () => {
  // A single bright pixel right of the center moves above it after +90°.
  const x: FloatImage = { channels: 1, height: 5, width: 5, data: new Float32Array(25) };
  x.data[2 * 5 + 4] = 1;
  const r = F.rotate(x, 90);
  assert.equal(r.data[0 * 5 + 2], 1);
  assert.equal(r.data.reduce((a, b) => a + b, 0), 1);
});

test('transform constructors check their arguments like torchvision', () => {
  assert.throws(() => new T.RandomHorizontalFlip(1.5), RangeError);
  assert.throws(() => new T.RandomCrop(0), RangeError);
  assert.throws(() => new T.RandomCrop(32, { padding: [1, 2, 3] as unknown as [number, number] }), RangeError);
  assert.throws(() => new T.RandomCrop(32, { paddingMode: 'wrap' as F.PaddingMode }), RangeError);
  assert.throws(() => new T.ColorJitter({ hue: 0.7 }), RangeError);
  assert.throws(() => new T.ColorJitter({ brightness: -1 }), RangeError);
  assert.throws(() => new T.RandomResizedCrop(8, { scale: [1, 0.5] }), RangeError);
  assert.throws(() => new T.Normalize([0.5], [0]), RangeError);
  assert.throws(() => new T.Compose([new T.Normalize([0.5], [0.5])]), TypeError);
  assert.throws(() => new T.Compose([new T.RandomErasing(), new T.ToTensor()]), TypeError);
  assert.doesNotThrow(() => new T.Compose([new T.Compose([new T.RandomCrop(4), new T.ToTensor()]), new T.Normalize([0.5], [0.5])]));
  assert.throws(() => new T.RandomCrop(40).describe({ channels: 3, height: 32, width: 32 }), RangeError);
  assert.throws(() => new T.Normalize([0.1, 0.2], [1, 1]).describe({ channels: 3, height: 4, width: 4 }), RangeError);
  // Defaults are torchvision's.
  const e = new T.RandomErasing();
  assert.deepEqual([e.p, e.scale, e.ratio, e.value], [0.5, [0.02, 0.33], [0.3, 3.3], 0]);
  const r = new T.RandomResizedCrop(224);
  assert.deepEqual([r.scale, r.ratio], [[0.08, 1], [3 / 4, 4 / 3]]);
  assert.equal(new T.RandomGrayscale().p, 0.1);
  assert.deepEqual(new T.ColorJitter({ brightness: 0.2, hue: 0.1 }).brightness, [0.8, 1.2]);
  assert.equal(new T.ColorJitter({ brightness: 0 }).brightness, null);
  assert.deepEqual(new T.Resize(16).outputSize(32, 48), [16, 24]);
  assert.deepEqual(new T.Resize(16, { maxSize: 20 }).outputSize(32, 48), [13, 20]);
});

test('RandomResizedCrop falls back to a center crop when no attempt fits', () => {
  // A scale above 1 never fits: torchvision then center-crops to the ratio bounds.
  const t = new T.RandomResizedCrop(4, { scale: [2, 3], ratio: [1, 1] });
  assert.deepEqual(t.params(6, 10, new Generator(1)), [0, 2, 6, 6]);
  const wide = new T.RandomResizedCrop(4, { scale: [2, 3], ratio: [0.5, 2] });
  assert.deepEqual(wide.params(6, 10, new Generator(1)), [0, 0, 6, 10]);
});
