// torchvision transforms with the same parameters and defaults, in camelCase. Each transform
// does two things: apply() is the pure-TypeScript reference on one image (tests only), and
// describe() says what it is to the native batch augmenter (native/augment), which is what the
// loader runs. Both draw their random parameters in the same order from a per-sample Generator.
//
// Pixel units: every pipeline starts from uint8 images turned into [0,1] floats (ToTensor's
// scale), so transforms before ToTensor see what torchvision's PIL path sees, without the
// rounding to uint8 in between. Fill values are given in pixel units 0–255 as for PIL images.
import type { Generator } from '../tensor/random.js';
import * as F from './functional.js';
import { formatImageShape, type FloatImage, type ImageShape } from './image.js';
import type { AutoAugmentOp } from './auto-augment.js';

type Pair = [number, number];

/** The plain description of one op that the native augmenter runs (native/bindings/augment.cc). */
export type AugmentOp =
  | { kind: 'randomCrop'; height: number; width: number; padding: [number, number, number, number];
    padIfNeeded: boolean; paddingMode: number; fill: number[] }
  | { kind: 'centerCrop' | 'resize'; height: number; width: number }
  | { kind: 'randomResizedCrop'; height: number; width: number; scale: Pair; ratio: Pair }
  | { kind: 'horizontalFlip' | 'verticalFlip' | 'grayscale'; p: number }
  | { kind: 'rotation'; degrees: Pair; interpolation: F.Interpolation; fill: number[] }
  | { kind: 'colorJitter'; brightness: Pair | null; contrast: Pair | null; saturation: Pair | null; hue: Pair | null }
  | { kind: 'normalize'; mean: number[]; std: number[] }
  | { kind: 'erasing'; p: number; scale: Pair; ratio: Pair; random: boolean; value: number[] }
  | AutoAugmentOp;

export interface Described {
  ops: AugmentOp[];
  /** The shape that comes out. */
  shape: ImageShape;
}

export interface Transform {
  /** True for transforms torchvision applies to tensors only (Normalize, RandomErasing). */
  readonly needsTensor: boolean;
  /** Reference path: one image, random parameters drawn from gen. */
  apply(img: FloatImage, gen: Generator): FloatImage;
  /** Native ops for an input of this shape; throws RangeError when it cannot apply. */
  describe(shape: ImageShape): Described;
}

function uniform(gen: Generator, lo: number, hi: number): number {
  return lo + (hi - lo) * gen.random();
}

function checkProbability(p: number, what: string): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${what}: p must be a probability in [0, 1] but is ${p}`);
  return p;
}

function checkSize(size: number | readonly number[], what: string): Pair {
  const s: number[] = typeof size === 'number' ? [size, size] : size.length === 1 ? [size[0], size[0]] : [...size];
  if (s.length !== 2 || s.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new RangeError(`${what}: size must be a positive integer or [height, width] but is ${JSON.stringify(size)}`);
  }
  return [s[0], s[1]];
}

function checkRange(r: readonly number[], what: string, lo = -Infinity): Pair {
  if (r.length !== 2 || !r.every((v) => Number.isFinite(v) && v >= lo) || r[0] > r[1]) {
    throw new RangeError(`${what} must be [min, max] with min <= max but is ${JSON.stringify(r)}`);
  }
  return [r[0], r[1]];
}

const fill255 = (fill: F.Fill, channels: number, what: string): number[] =>
  F.fillPerChannel(fill, channels, `${what} fill`).map((v) => v / 255);

/** Marks where torchvision converts to a tensor; pixels are already [0,1] floats here. */
export class ToTensor implements Transform {
  readonly needsTensor = false;
  apply(img: FloatImage): FloatImage {
    return img;
  }
  describe(shape: ImageShape): Described {
    return { ops: [], shape };
  }
}

export class Normalize implements Transform {
  readonly needsTensor = true;
  readonly mean: number[];
  readonly std: number[];
  constructor(mean: readonly number[], std: readonly number[]) {
    if (mean.length === 0 || mean.length !== std.length) throw new RangeError('Normalize: mean and std must have the same, non-zero length');
    if (std.some((s) => s === 0 || !Number.isFinite(s))) throw new RangeError('Normalize: std must be finite and non-zero');
    this.mean = [...mean];
    this.std = [...std];
  }
  apply(img: FloatImage): FloatImage {
    return F.normalize(img, this.mean, this.std);
  }
  describe(shape: ImageShape): Described {
    const mean = F.fillPerChannel(this.mean, shape.channels, 'Normalize mean');
    const std = F.fillPerChannel(this.std, shape.channels, 'Normalize std');
    return { ops: [{ kind: 'normalize', mean, std }], shape };
  }
}

export interface RandomCropOptions {
  padding?: F.Padding | null;
  padIfNeeded?: boolean;
  /** Pixel units 0–255 (PIL), one value or one per channel. */
  fill?: F.Fill;
  paddingMode?: F.PaddingMode;
}

export class RandomCrop implements Transform {
  readonly needsTensor = false;
  readonly size: Pair;
  readonly padding: [number, number, number, number] | null;
  readonly padIfNeeded: boolean;
  readonly fill: F.Fill;
  readonly paddingMode: F.PaddingMode;
  constructor(size: number | readonly number[], opts: RandomCropOptions = {}) {
    this.size = checkSize(size, 'RandomCrop');
    this.padding = opts.padding == null ? null : F.paddingLTRB(opts.padding);
    this.padIfNeeded = opts.padIfNeeded ?? false;
    this.fill = opts.fill ?? 0;
    this.paddingMode = opts.paddingMode ?? 'constant';
    if (!F.PADDING_MODES.includes(this.paddingMode)) throw new RangeError(`RandomCrop: paddingMode must be one of ${F.PADDING_MODES.join(', ')}`);
  }
  apply(img: FloatImage, gen: Generator): FloatImage {
    const fill = fill255(this.fill, img.channels, 'RandomCrop');
    const [th, tw] = this.size;
    if (this.padding) img = F.pad(img, this.padding, fill, this.paddingMode);
    if (this.padIfNeeded && img.width < tw) img = F.pad(img, [tw - img.width, 0], fill, this.paddingMode);
    if (this.padIfNeeded && img.height < th) img = F.pad(img, [0, th - img.height], fill, this.paddingMode);
    if (img.height < th || img.width < tw) throw new RangeError(`RandomCrop: crop ${th}x${tw} is larger than the padded image ${img.height}x${img.width}`);
    if (img.height === th && img.width === tw) return F.crop(img, 0, 0, th, tw);
    const top = gen.randint(img.height - th + 1), left = gen.randint(img.width - tw + 1);
    return F.crop(img, top, left, th, tw);
  }
  describe(shape: ImageShape): Described {
    const [th, tw] = this.size;
    const p = this.padding ?? [0, 0, 0, 0];
    let h = shape.height + p[1] + p[3], w = shape.width + p[0] + p[2];
    if (this.padIfNeeded && w < tw) w += 2 * (tw - w);
    if (this.padIfNeeded && h < th) h += 2 * (th - h);
    if (h < th || w < tw) throw new RangeError(`RandomCrop: crop ${th}x${tw} is larger than the padded image ${h}x${w}`);
    return {
      ops: [{ kind: 'randomCrop', height: th, width: tw, padding: [...p], padIfNeeded: this.padIfNeeded,
        paddingMode: F.PADDING_MODES.indexOf(this.paddingMode), fill: fill255(this.fill, shape.channels, 'RandomCrop') }],
      shape: { channels: shape.channels, height: th, width: tw },
    };
  }
}

export class CenterCrop implements Transform {
  readonly needsTensor = false;
  readonly size: Pair;
  constructor(size: number | readonly number[]) {
    this.size = checkSize(size, 'CenterCrop');
  }
  apply(img: FloatImage): FloatImage {
    return F.centerCrop(img, this.size[0], this.size[1]);
  }
  describe(shape: ImageShape): Described {
    return { ops: [{ kind: 'centerCrop', height: this.size[0], width: this.size[1] }], shape: { channels: shape.channels, height: this.size[0], width: this.size[1] } };
  }
}

/** Bilinear with antialiasing (PIL's result). An int size matches the shorter side, as torchvision. */
export class Resize implements Transform {
  readonly needsTensor = false;
  readonly size: number | Pair;
  readonly maxSize: number | null;
  constructor(size: number | readonly number[], opts: { maxSize?: number } = {}) {
    this.size = typeof size === 'number' || size.length === 1 ? checkSize(size, 'Resize')[0] : checkSize(size, 'Resize');
    this.maxSize = opts.maxSize ?? null;
    if (this.maxSize !== null && typeof this.size !== 'number') throw new RangeError('Resize: maxSize is only allowed when size is a single number');
    if (this.maxSize !== null && !(Number.isInteger(this.maxSize) && this.maxSize > (this.size as number))) {
      throw new RangeError(`Resize: maxSize must be an integer larger than size but is ${this.maxSize}`);
    }
  }
  /** torchvision's _compute_resized_output_size. */
  outputSize(height: number, width: number): Pair {
    if (typeof this.size !== 'number') return this.size;
    const [short, long] = width <= height ? [width, height] : [height, width];
    let newShort = this.size, newLong = Math.trunc(this.size * long / short);
    if (this.maxSize !== null && newLong > this.maxSize) {
      newShort = Math.trunc(this.maxSize * newShort / newLong);
      newLong = this.maxSize;
    }
    return width <= height ? [newLong, newShort] : [newShort, newLong];
  }
  apply(img: FloatImage): FloatImage {
    const [h, w] = this.outputSize(img.height, img.width);
    return F.resize(img, h, w);
  }
  describe(shape: ImageShape): Described {
    const [height, width] = this.outputSize(shape.height, shape.width);
    return { ops: [{ kind: 'resize', height, width }], shape: { channels: shape.channels, height, width } };
  }
}

// torchvision's box sampling for RandomResizedCrop (crop) and RandomErasing (erase): 10 tries.
function sampleBox(gen: Generator, h: number, w: number, scale: Pair, ratio: Pair, forCrop: boolean): Pair | null {
  const area = h * w;
  const lr0 = Math.log(ratio[0]), lr1 = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * uniform(gen, scale[0], scale[1]);
    const aspect = Math.exp(uniform(gen, lr0, lr1));
    const a = F.roundHalfEven(Math.sqrt(target * aspect)), b = F.roundHalfEven(Math.sqrt(target / aspect));
    if (forCrop) {
      if (a > 0 && a <= w && b > 0 && b <= h) return [b, a];  // [cropH, cropW]
    } else if (a < h && b < w) {
      return [a, b];  // [eraseH, eraseW]
    }
  }
  return null;
}

export class RandomResizedCrop implements Transform {
  readonly needsTensor = false;
  readonly size: Pair;
  readonly scale: Pair;
  readonly ratio: Pair;
  constructor(size: number | readonly number[], opts: { scale?: readonly number[]; ratio?: readonly number[] } = {}) {
    this.size = checkSize(size, 'RandomResizedCrop');
    this.scale = checkRange(opts.scale ?? [0.08, 1], 'RandomResizedCrop scale', 0);
    this.ratio = checkRange(opts.ratio ?? [3 / 4, 4 / 3], 'RandomResizedCrop ratio', Number.MIN_VALUE);
  }
  /** [top, left, height, width] of the crop, as torchvision's get_params. */
  params(height: number, width: number, gen: Generator): [number, number, number, number] {
    const box = sampleBox(gen, height, width, this.scale, this.ratio, true);
    if (box) return [gen.randint(height - box[0] + 1), gen.randint(width - box[1] + 1), box[0], box[1]];
    const inRatio = width / height;
    let w = width, h = height;
    if (inRatio < this.ratio[0]) h = F.roundHalfEven(w / this.ratio[0]);
    else if (inRatio > this.ratio[1]) w = F.roundHalfEven(h * this.ratio[1]);
    return [Math.floor((height - h) / 2), Math.floor((width - w) / 2), h, w];
  }
  apply(img: FloatImage, gen: Generator): FloatImage {
    const [top, left, h, w] = this.params(img.height, img.width, gen);
    return F.resizedCrop(img, top, left, h, w, this.size[0], this.size[1]);
  }
  describe(shape: ImageShape): Described {
    return {
      ops: [{ kind: 'randomResizedCrop', height: this.size[0], width: this.size[1], scale: this.scale, ratio: this.ratio }],
      shape: { channels: shape.channels, height: this.size[0], width: this.size[1] },
    };
  }
}

export class RandomHorizontalFlip implements Transform {
  readonly needsTensor = false;
  constructor(readonly p = 0.5) {
    checkProbability(p, 'RandomHorizontalFlip');
  }
  apply(img: FloatImage, gen: Generator): FloatImage {
    return gen.random() < this.p ? F.hflip(img) : img;
  }
  describe(shape: ImageShape): Described {
    return { ops: [{ kind: 'horizontalFlip', p: this.p }], shape };
  }
}

export class RandomVerticalFlip implements Transform {
  readonly needsTensor = false;
  constructor(readonly p = 0.5) {
    checkProbability(p, 'RandomVerticalFlip');
  }
  apply(img: FloatImage, gen: Generator): FloatImage {
    return gen.random() < this.p ? F.vflip(img) : img;
  }
  describe(shape: ImageShape): Described {
    return { ops: [{ kind: 'verticalFlip', p: this.p }], shape };
  }
}

export interface RandomRotationOptions {
  interpolation?: F.Interpolation;
  /** Pixel units 0–255 (PIL), one value or one per channel. */
  fill?: F.Fill;
}

/** Uniform angle in degrees (a number d means [-d, d]), counter-clockwise about the center. */
export class RandomRotation implements Transform {
  readonly needsTensor = false;
  readonly degrees: Pair;
  readonly interpolation: F.Interpolation;
  readonly fill: F.Fill;
  constructor(degrees: number | readonly number[], opts: RandomRotationOptions = {}) {
    if (typeof degrees === 'number') {
      if (!(degrees >= 0)) throw new RangeError(`RandomRotation: degrees must be non-negative when a single number but is ${degrees}`);
      this.degrees = [-degrees, degrees];
    } else {
      this.degrees = checkRange(degrees, 'RandomRotation degrees');
    }
    this.interpolation = opts.interpolation ?? 'nearest';
    if (this.interpolation !== 'nearest' && this.interpolation !== 'bilinear') throw new RangeError("RandomRotation: interpolation must be 'nearest' or 'bilinear'");
    this.fill = opts.fill ?? 0;
  }
  apply(img: FloatImage, gen: Generator): FloatImage {
    const angle = uniform(gen, this.degrees[0], this.degrees[1]);
    return F.rotate(img, angle, { interpolation: this.interpolation, fill: fill255(this.fill, img.channels, 'RandomRotation') });
  }
  describe(shape: ImageShape): Described {
    return { ops: [{ kind: 'rotation', degrees: this.degrees, interpolation: this.interpolation, fill: fill255(this.fill, shape.channels, 'RandomRotation') }], shape };
  }
}

type JitterValue = number | readonly number[];

// torchvision's ColorJitter._check_input: a number v means [center - v, center + v] (clipped
// at 0 for factors); a range equal to [center, center] means "leave out".
function jitterRange(value: JitterValue | undefined, name: string, center: number, bound: Pair, clipFirst: boolean): Pair | null {
  if (value === undefined) return null;
  let r: Pair;
  if (typeof value === 'number') {
    if (!(value >= 0)) throw new RangeError(`ColorJitter: ${name} must be non-negative when a single number but is ${value}`);
    r = [center - value, center + value];
    if (clipFirst) r[0] = Math.max(r[0], 0);
  } else {
    r = checkRange(value, `ColorJitter ${name}`);
  }
  if (!(r[0] >= bound[0] && r[1] <= bound[1])) throw new RangeError(`ColorJitter: ${name} values must be within [${bound[0]}, ${bound[1]}] but are [${r.join(', ')}]`);
  return r[0] === center && r[1] === center ? null : r;
}

/** Random order per call, as torchvision; contrast blends with the grayscale mean; hue via HSV. */
export class ColorJitter implements Transform {
  readonly needsTensor = false;
  readonly brightness: Pair | null;
  readonly contrast: Pair | null;
  readonly saturation: Pair | null;
  readonly hue: Pair | null;
  constructor(opts: { brightness?: JitterValue; contrast?: JitterValue; saturation?: JitterValue; hue?: JitterValue } = {}) {
    this.brightness = jitterRange(opts.brightness, 'brightness', 1, [0, Infinity], true);
    this.contrast = jitterRange(opts.contrast, 'contrast', 1, [0, Infinity], true);
    this.saturation = jitterRange(opts.saturation, 'saturation', 1, [0, Infinity], true);
    this.hue = jitterRange(opts.hue, 'hue', 0, [-0.5, 0.5], false);
  }
  /** The order (0 brightness, 1 contrast, 2 saturation, 3 hue) and factors, as get_params. */
  params(gen: Generator): { order: number[]; factors: (number | null)[] } {
    const order = [0, 1, 2, 3];
    for (let k = 3; k > 0; k--) {
      const j = gen.randint(k + 1);
      [order[k], order[j]] = [order[j], order[k]];
    }
    const factors = [this.brightness, this.contrast, this.saturation, this.hue]
      .map((r) => (r ? uniform(gen, r[0], r[1]) : null));
    return { order, factors };
  }
  apply(img: FloatImage, gen: Generator): FloatImage {
    const { order, factors } = this.params(gen);
    const fns = [F.adjustBrightness, F.adjustContrast, F.adjustSaturation, F.adjustHue];
    for (const k of order) {
      const f = factors[k];
      if (f !== null) img = fns[k](img, f);
    }
    return img;
  }
  describe(shape: ImageShape): Described {
    if (shape.channels !== 1 && shape.channels !== 3) throw new RangeError(`ColorJitter needs 1 or 3 channels but the image is ${formatImageShape(shape)}`);
    return { ops: [{ kind: 'colorJitter', brightness: this.brightness, contrast: this.contrast, saturation: this.saturation, hue: this.hue }], shape };
  }
}

/** With probability p (default 0.1), grayscale with the input's channel count. */
export class RandomGrayscale implements Transform {
  readonly needsTensor = false;
  constructor(readonly p = 0.1) {
    checkProbability(p, 'RandomGrayscale');
  }
  apply(img: FloatImage, gen: Generator): FloatImage {
    return gen.random() < this.p ? F.rgbToGrayscale(img, img.channels as 1 | 3) : img;
  }
  describe(shape: ImageShape): Described {
    if (shape.channels !== 1 && shape.channels !== 3) throw new RangeError(`RandomGrayscale needs 1 or 3 channels but the image is ${formatImageShape(shape)}`);
    return { ops: [{ kind: 'grayscale', p: this.p }], shape };
  }
}

export interface RandomErasingOptions {
  p?: number;
  scale?: readonly number[];
  ratio?: readonly number[];
  /** In normalized units; 'random' erases with standard normal noise. */
  value?: F.Fill | 'random';
}

/** torchvision RandomErasing on the tensor (after Normalize): p 0.5, scale (0.02, 0.33), ratio (0.3, 3.3), value 0. */
export class RandomErasing implements Transform {
  readonly needsTensor = true;
  readonly p: number;
  readonly scale: Pair;
  readonly ratio: Pair;
  readonly value: F.Fill | 'random';
  constructor(opts: RandomErasingOptions = {}) {
    this.p = checkProbability(opts.p ?? 0.5, 'RandomErasing');
    this.scale = checkRange(opts.scale ?? [0.02, 0.33], 'RandomErasing scale', 0);
    this.ratio = checkRange(opts.ratio ?? [0.3, 3.3], 'RandomErasing ratio', Number.MIN_VALUE);
    this.value = opts.value ?? 0;
  }
  apply(img: FloatImage, gen: Generator): FloatImage {
    if (!(gen.random() < this.p)) return img;
    const box = sampleBox(gen, img.height, img.width, this.scale, this.ratio, false);
    if (!box) return img;
    const [h, w] = box;
    let value: F.Fill | Float32Array;
    if (this.value === 'random') {
      value = new Float32Array(img.channels * h * w);
      for (let i = 0; i < value.length; i++) value[i] = gen.normal();
    } else {
      value = this.value;
    }
    const top = gen.randint(img.height - h + 1), left = gen.randint(img.width - w + 1);
    return F.erase(img, top, left, h, w, value);
  }
  describe(shape: ImageShape): Described {
    const random = this.value === 'random';
    const value = random ? new Array<number>(shape.channels).fill(0) : F.fillPerChannel(this.value as F.Fill, shape.channels, 'RandomErasing value');
    return { ops: [{ kind: 'erasing', p: this.p, scale: this.scale, ratio: this.ratio, random, value }], shape };
  }
}

/** Applies transforms in order. Normalize and RandomErasing must follow a ToTensor, as in torchvision. */
export class Compose implements Transform {
  readonly transforms: readonly Transform[];
  readonly needsTensor: boolean;
  /** Whether a ToTensor is inside, so that a Compose after this one may normalize. */
  readonly givesTensor: boolean;
  constructor(transforms: readonly Transform[]) {
    let tensor = false;
    for (const [i, t] of transforms.entries()) {
      if (t instanceof ToTensor || (t instanceof Compose && t.givesTensor)) tensor = true;
      else if (t.needsTensor && !tensor) {
        throw new TypeError(`Compose: transform ${i} (${t.constructor.name}) works on tensors; put a ToTensor before it`);
      }
    }
    this.transforms = [...transforms];
    this.needsTensor = transforms.length > 0 && transforms[0].needsTensor;
    this.givesTensor = tensor;
  }
  apply(img: FloatImage, gen: Generator): FloatImage {
    for (const t of this.transforms) img = t.apply(img, gen);
    return img;
  }
  describe(shape: ImageShape): Described {
    const ops: AugmentOp[] = [];
    for (const t of this.transforms) {
      const d = t.describe(shape);
      ops.push(...d.ops);
      shape = d.shape;
    }
    return { ops, shape };
  }
}
