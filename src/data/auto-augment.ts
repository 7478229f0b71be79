// torchvision's AutoAugment (ImageNet policy), RandAugment and TrivialAugmentWide, run by the
// native augmenter (native/augment/auto_augment.cc; its TypeScript reference is
// auto-augment-ops.ts) on the image as uint8, as torchvision runs them on uint8 tensors. This file builds what torchvision's _augmentation_space builds (the
// magnitude of every op per bin, for the image size at that point of the pipeline) and hands
// it over; the native side draws the ops and applies them.
import { Generator } from '../tensor/random.js';
import { applyAutoAugmentOp, sampleAutoAugment } from './auto-augment-ops.js';
import { fillPerChannel, roundHalfEven, type Fill, type Interpolation } from './functional.js';
import type { FloatImage, ImageShape } from './image.js';
import { formatImageShape } from './image.js';
import type { Described, Transform } from './transforms.js';

/** torchvision's op names (autoaugment.py _apply_op). */
export const AUTO_AUGMENT_OPS = [
  'Identity', 'ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'Rotate', 'Brightness', 'Color', 'Contrast', 'Sharpness',
  'Posterize', 'Solarize', 'AutoContrast', 'Equalize', 'Invert',
] as const;
export type AutoAugmentOpName = typeof AUTO_AUGMENT_OPS[number];

/** One op of an augmentation space: its magnitude per bin (empty: it takes none). */
export interface SpaceOp { op: AutoAugmentOpName; signed: boolean; magnitudes: number[] }
/** One step of an AutoAugment sub-policy. */
export interface PolicyStep { op: AutoAugmentOpName; p: number; magnitude: number; signed: boolean }

/** What the native augmenter runs (native/bindings/augment.cc read_auto_augment). */
export type AutoAugmentOp = {
  kind: 'autoAugment'; interpolation: Interpolation; fill: number[] | null;
} & (
  | { mode: 'policy'; policies: PolicyStep[][] }
  | { mode: 'trivial'; space: SpaceOp[] }
  | { mode: 'rand'; space: SpaceOp[]; numOps: number; level: number; levelStd: number; levelMax: number }
);

export interface AutoAugmentCommonOptions {
  /** 'nearest' (torchvision's default) or 'bilinear', for the geometric ops. */
  interpolation?: Interpolation;
  /** Pixel units 0–255 for the area the geometric ops uncover; default none (zeros, as torchvision's fill=None). */
  fill?: Fill | null;
}

// torch.linspace in float32 as its CPU kernel computes it (one float step; the first half counts
// up from start, the second down from end), which is what torchvision's .item() returns.
function linspace(start: number, end: number, steps: number): number[] {
  const f = Math.fround, lo = f(start), hi = f(end);
  const step = f(f(hi - lo) / (steps - 1));
  const half = Math.floor(steps / 2);
  return Array.from({ length: steps }, (_, i) => (i < half ? f(lo + f(step * i)) : f(hi - f(step * (steps - i - 1)))));
}

// 8 - (arange(bins) / ((bins - 1) / levels)).round(): bits from 8 down to 8 - levels.
function posterizeBits(bins: number, levels: number): number[] {
  const div = (bins - 1) / levels;
  return Array.from({ length: bins }, (_, i) => 8 - roundHalfEven(Math.fround(i / div)));
}

type SpaceKind = 'autoAugment' | 'randAugment' | 'trivialAugmentWide';

/**
 * torchvision's _augmentation_space of each transform for an image of height × width, in its
 * order. AutoAugment uses 10 bins and adds Invert; TrivialAugmentWide has the wide ranges.
 */
export function augmentationSpace(kind: SpaceKind, numBins: number, height: number, width: number): SpaceOp[] {
  const wide = kind === 'trivialAugmentWide';
  const signed = (op: AutoAugmentOpName, lo: number, hi: number): SpaceOp => ({ op, signed: true, magnitudes: linspace(lo, hi, numBins) });
  const none = (op: AutoAugmentOpName): SpaceOp => ({ op, signed: false, magnitudes: [] });
  const shear = wide ? 0.99 : 0.3, enhance = wide ? 0.99 : 0.9;
  const space: SpaceOp[] = [
    ...(kind === 'autoAugment' ? [] : [none('Identity')]),
    signed('ShearX', 0, shear),
    signed('ShearY', 0, shear),
    signed('TranslateX', 0, wide ? 32 : (150 / 331) * width),
    signed('TranslateY', 0, wide ? 32 : (150 / 331) * height),
    signed('Rotate', 0, wide ? 135 : 30),
    signed('Brightness', 0, enhance),
    signed('Color', 0, enhance),
    signed('Contrast', 0, enhance),
    signed('Sharpness', 0, enhance),
    { op: 'Posterize', signed: false, magnitudes: posterizeBits(numBins, wide ? 6 : 4) },
    { op: 'Solarize', signed: false, magnitudes: linspace(255, 0, numBins) },
    none('AutoContrast'),
    none('Equalize'),
  ];
  if (kind === 'autoAugment') space.push(none('Invert'));
  return space;
}

type PolicyRow = [AutoAugmentOpName, number, number | null];

/** AutoAugmentPolicy.IMAGENET: 25 sub-policies of (op, probability, magnitude bin of 10). */
export const IMAGENET_POLICY: readonly (readonly [PolicyRow, PolicyRow])[] = [
  [['Posterize', 0.4, 8], ['Rotate', 0.6, 9]],
  [['Solarize', 0.6, 5], ['AutoContrast', 0.6, null]],
  [['Equalize', 0.8, null], ['Equalize', 0.6, null]],
  [['Posterize', 0.6, 7], ['Posterize', 0.6, 6]],
  [['Equalize', 0.4, null], ['Solarize', 0.2, 4]],
  [['Equalize', 0.4, null], ['Rotate', 0.8, 8]],
  [['Solarize', 0.6, 3], ['Equalize', 0.6, null]],
  [['Posterize', 0.8, 5], ['Equalize', 1.0, null]],
  [['Rotate', 0.2, 3], ['Solarize', 0.6, 8]],
  [['Equalize', 0.6, null], ['Posterize', 0.4, 6]],
  [['Rotate', 0.8, 8], ['Color', 0.4, 0]],
  [['Rotate', 0.4, 9], ['Equalize', 0.6, null]],
  [['Equalize', 0.0, null], ['Equalize', 0.8, null]],
  [['Invert', 0.6, null], ['Equalize', 1.0, null]],
  [['Color', 0.6, 4], ['Contrast', 1.0, 8]],
  [['Rotate', 0.8, 8], ['Color', 1.0, 2]],
  [['Color', 0.8, 8], ['Solarize', 0.8, 7]],
  [['Sharpness', 0.4, 7], ['Invert', 0.6, null]],
  [['ShearX', 0.6, 5], ['Equalize', 1.0, null]],
  [['Color', 0.4, 0], ['Equalize', 0.6, null]],
  [['Equalize', 0.4, null], ['Solarize', 0.2, 4]],
  [['Solarize', 0.6, 5], ['AutoContrast', 0.6, null]],
  [['Invert', 0.6, null], ['Equalize', 1.0, null]],
  [['Color', 0.6, 4], ['Contrast', 1.0, 8]],
  [['Equalize', 0.8, null], ['Equalize', 0.6, null]],
];

/** AutoAugmentPolicy.CIFAR10. */
export const CIFAR10_POLICY: readonly (readonly [PolicyRow, PolicyRow])[] = [
  [['Invert', 0.1, null], ['Contrast', 0.2, 6]],
  [['Rotate', 0.7, 2], ['TranslateX', 0.3, 9]],
  [['Sharpness', 0.8, 1], ['Sharpness', 0.9, 3]],
  [['ShearY', 0.5, 8], ['TranslateY', 0.7, 9]],
  [['AutoContrast', 0.5, null], ['Equalize', 0.9, null]],
  [['ShearY', 0.2, 7], ['Posterize', 0.3, 7]],
  [['Color', 0.4, 3], ['Brightness', 0.6, 7]],
  [['Sharpness', 0.3, 9], ['Brightness', 0.7, 9]],
  [['Equalize', 0.6, null], ['Equalize', 0.5, null]],
  [['Contrast', 0.6, 7], ['Sharpness', 0.6, 5]],
  [['Color', 0.7, 7], ['TranslateX', 0.5, 8]],
  [['Equalize', 0.3, null], ['AutoContrast', 0.4, null]],
  [['TranslateY', 0.4, 3], ['Sharpness', 0.2, 6]],
  [['Brightness', 0.9, 6], ['Color', 0.2, 8]],
  [['Solarize', 0.5, 2], ['Invert', 0.0, null]],
  [['Equalize', 0.2, null], ['AutoContrast', 0.6, null]],
  [['Equalize', 0.2, null], ['Equalize', 0.6, null]],
  [['Color', 0.9, 9], ['Equalize', 0.6, null]],
  [['AutoContrast', 0.8, null], ['Solarize', 0.2, 8]],
  [['Brightness', 0.1, 3], ['Color', 0.7, 0]],
  [['Solarize', 0.4, 5], ['AutoContrast', 0.9, null]],
  [['TranslateY', 0.9, 9], ['TranslateY', 0.7, 9]],
  [['AutoContrast', 0.9, null], ['Solarize', 0.8, 3]],
  [['Equalize', 0.8, null], ['Invert', 0.1, null]],
  [['TranslateY', 0.7, 9], ['AutoContrast', 0.9, null]],
];

/** AutoAugmentPolicy.SVHN. */
export const SVHN_POLICY: readonly (readonly [PolicyRow, PolicyRow])[] = [
  [['ShearX', 0.9, 4], ['Invert', 0.2, null]],
  [['ShearY', 0.9, 8], ['Invert', 0.7, null]],
  [['Equalize', 0.6, null], ['Solarize', 0.6, 6]],
  [['Invert', 0.9, null], ['Equalize', 0.6, null]],
  [['Equalize', 0.6, null], ['Rotate', 0.9, 3]],
  [['ShearX', 0.9, 4], ['AutoContrast', 0.8, null]],
  [['ShearY', 0.9, 8], ['Invert', 0.4, null]],
  [['ShearY', 0.9, 5], ['Solarize', 0.2, 6]],
  [['Invert', 0.9, null], ['AutoContrast', 0.8, null]],
  [['Equalize', 0.6, null], ['Rotate', 0.9, 3]],
  [['ShearX', 0.9, 4], ['Solarize', 0.3, 3]],
  [['ShearY', 0.8, 8], ['Invert', 0.7, null]],
  [['Equalize', 0.9, null], ['TranslateY', 0.6, 6]],
  [['Invert', 0.9, null], ['Equalize', 0.6, null]],
  [['Contrast', 0.3, 3], ['Rotate', 0.8, 4]],
  [['Invert', 0.8, null], ['TranslateY', 0.0, 2]],
  [['ShearY', 0.7, 6], ['Solarize', 0.4, 8]],
  [['Invert', 0.6, null], ['Rotate', 0.8, 4]],
  [['ShearY', 0.3, 7], ['TranslateX', 0.9, 3]],
  [['ShearX', 0.1, 6], ['Invert', 0.6, null]],
  [['Solarize', 0.7, 2], ['TranslateY', 0.6, 7]],
  [['ShearY', 0.8, 4], ['Invert', 0.8, null]],
  [['ShearX', 0.7, 9], ['TranslateY', 0.8, 3]],
  [['ShearY', 0.8, 5], ['AutoContrast', 0.7, null]],
  [['ShearX', 0.7, 2], ['Invert', 0.1, null]],
];

const POLICIES = { imagenet: IMAGENET_POLICY, cifar10: CIFAR10_POLICY, svhn: SVHN_POLICY } as const;
export type AutoAugmentPolicy = keyof typeof POLICIES;

function checkInterpolation(i: Interpolation, what: string): Interpolation {
  if (i !== 'nearest' && i !== 'bilinear') throw new RangeError(`${what}: interpolation must be 'nearest' or 'bilinear'`);
  return i;
}

function checkBins(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 2 || n > 1024) throw new RangeError(`${what}: numMagnitudeBins must be an integer in [2, 1024] but is ${n}`);
  return n;
}

/** Shared by the three: the channel and fill checks, and the uint8 round trip of the reference. */
abstract class AutoAugmentBase implements Transform {
  readonly needsTensor = false;
  readonly interpolation: Interpolation;
  readonly fill: Fill | null;
  constructor(opts: AutoAugmentCommonOptions, readonly name: string) {
    this.interpolation = checkInterpolation(opts.interpolation ?? 'nearest', name);
    this.fill = opts.fill ?? null;
    if (this.fill !== null) {
      const values = typeof this.fill === 'number' ? [this.fill] : this.fill;
      if (!values.every((v) => v >= 0 && v <= 255)) throw new RangeError(`${name}: fill must be pixel values in [0, 255] but is ${JSON.stringify(this.fill)}`);
    }
  }
  protected abstract op(shape: ImageShape, fill: number[] | null): AutoAugmentOp;
  describe(shape: ImageShape): Described {
    if (shape.channels !== 1 && shape.channels !== 3) throw new RangeError(`${this.name} needs 1 or 3 channels but the image is ${formatImageShape(shape)}`);
    const fill = this.fill === null ? null : fillPerChannel(this.fill, shape.channels, `${this.name} fill`);
    return { ops: [this.op(shape, fill)], shape };
  }
  /** The reference (auto-augment-ops.ts): its own generator seeded by gen's next draw, as the augmenter. */
  apply(img: FloatImage, gen: Generator): FloatImage {
    const op = this.describe(img).ops[0] as AutoAugmentOp;
    const own = new Generator(gen.nextUint32());
    const bytes = Uint8Array.from(img.data, (v) => roundHalfEven(Math.fround(Math.min(1, Math.max(0, v)) * 255)));
    const sampling = { bilinear: op.interpolation === 'bilinear', fill: op.fill };
    for (const [name, m] of sampleAutoAugment(op, own)) applyAutoAugmentOp(name, m, sampling, bytes, img.channels, img.height, img.width);
    return { ...img, data: Float32Array.from(bytes, (v) => v / 255) };
  }
}

export interface AutoAugmentOptions extends AutoAugmentCommonOptions {
  /** 'imagenet' (torchvision's default), 'cifar10' or 'svhn'. */
  policy?: AutoAugmentPolicy;
}

/** torchvision AutoAugment: one of the policy's sub-policies per image, each step with its probability. */
export class AutoAugment extends AutoAugmentBase {
  readonly policy: AutoAugmentPolicy;
  constructor(opts: AutoAugmentOptions = {}) {
    super(opts, 'AutoAugment');
    this.policy = opts.policy ?? 'imagenet';
    if (!Object.hasOwn(POLICIES, this.policy)) throw new RangeError(`AutoAugment: policy must be one of ${Object.keys(POLICIES).join(', ')} but is '${String(this.policy)}'`);
  }
  protected op(shape: ImageShape, fill: number[] | null): AutoAugmentOp {
    const space = new Map(augmentationSpace('autoAugment', 10, shape.height, shape.width).map((s) => [s.op, s]));
    const policies = POLICIES[this.policy].map((steps) => steps.map(([op, p, bin]): PolicyStep => {
      const s = space.get(op)!;
      return { op, p, magnitude: bin === null ? 0 : s.magnitudes[bin]!, signed: s.signed };
    }));
    return { kind: 'autoAugment', mode: 'policy', policies, interpolation: this.interpolation, fill };
  }
}

export interface RandAugmentOptions extends AutoAugmentCommonOptions {
  /** Ops per image, drawn with replacement (default 2). */
  numOps?: number;
  /** Bin index into numMagnitudeBins (default 9); between two bins the magnitude is interpolated. */
  magnitude?: number;
  numMagnitudeBins?: number;
  /** timm's magnitude_std, in bins: Gaussian noise on the magnitude per op, clipped to [0, numMagnitudeBins - 1]. */
  magnitudeStd?: number;
}

/** torchvision RandAugment (numOps 2, magnitude 9 of 31 bins), with timm's optional magnitude noise. */
export class RandAugment extends AutoAugmentBase {
  readonly numOps: number;
  readonly magnitude: number;
  readonly numMagnitudeBins: number;
  readonly magnitudeStd: number;
  constructor(opts: RandAugmentOptions = {}) {
    super(opts, 'RandAugment');
    this.numOps = opts.numOps ?? 2;
    this.numMagnitudeBins = checkBins(opts.numMagnitudeBins ?? 31, 'RandAugment');
    this.magnitude = opts.magnitude ?? 9;
    this.magnitudeStd = opts.magnitudeStd ?? 0;
    if (!Number.isInteger(this.numOps) || this.numOps < 0 || this.numOps > 64) throw new RangeError(`RandAugment: numOps must be an integer in [0, 64] but is ${this.numOps}`);
    if (!(this.magnitude >= 0 && this.magnitude <= this.numMagnitudeBins - 1)) {
      throw new RangeError(`RandAugment: magnitude must be a bin in [0, ${this.numMagnitudeBins - 1}] but is ${this.magnitude}`);
    }
    if (!(this.magnitudeStd >= 0 && Number.isFinite(this.magnitudeStd))) throw new RangeError(`RandAugment: magnitudeStd must be a finite number >= 0 but is ${this.magnitudeStd}`);
  }
  protected op(shape: ImageShape, fill: number[] | null): AutoAugmentOp {
    return {
      kind: 'autoAugment', mode: 'rand', space: augmentationSpace('randAugment', this.numMagnitudeBins, shape.height, shape.width),
      numOps: this.numOps, level: this.magnitude, levelStd: this.magnitudeStd, levelMax: this.numMagnitudeBins - 1,
      interpolation: this.interpolation, fill,
    };
  }
}

export interface TrivialAugmentWideOptions extends AutoAugmentCommonOptions {
  numMagnitudeBins?: number;
}

/** torchvision TrivialAugmentWide: one op and one of its 31 magnitude bins per image, both uniform. */
export class TrivialAugmentWide extends AutoAugmentBase {
  readonly numMagnitudeBins: number;
  constructor(opts: TrivialAugmentWideOptions = {}) {
    super(opts, 'TrivialAugmentWide');
    this.numMagnitudeBins = checkBins(opts.numMagnitudeBins ?? 31, 'TrivialAugmentWide');
  }
  protected op(shape: ImageShape, fill: number[] | null): AutoAugmentOp {
    return {
      kind: 'autoAugment', mode: 'trivial', space: augmentationSpace('trivialAugmentWide', this.numMagnitudeBins, shape.height, shape.width),
      interpolation: this.interpolation, fill,
    };
  }
}

/** The `--auto-augment` forms: `trivial`, an AutoAugment policy, or timm's `rand[-m<M>][-n<N>][-mstd<S>]`. */
export type AutoAugmentSpec =
  | { kind: 'trivial' }
  | { kind: AutoAugmentPolicy }
  | { kind: 'rand'; m: number; n: number; mstd: number };

/** timm's scale: m and mstd run 0–10 over the whole range, i.e. bin m · (bins − 1) / 10 of torchvision's. */
export const TIMM_LEVEL_DENOM = 10;

/**
 * Parses `trivial`, `imagenet` (`cifar10`, `svhn`: AutoAugment's other policies) or timm's grammar `rand-m9-n2-mstd0.5` (defaults m 10, n 2, mstd 0,
 * as timm). Throws RangeError with the accepted forms.
 */
export function parseAutoAugment(text: string): AutoAugmentSpec {
  if (text === 'trivial' || Object.hasOwn(POLICIES, text)) return { kind: text as 'trivial' | AutoAugmentPolicy };
  const parts = text.split('-');
  const bad = (why: string) => new RangeError(`'${text}' is not an auto-augment policy (${why}): expected trivial, imagenet, cifar10, svhn or rand[-m<0..10>][-n<ops>][-mstd<std>], e.g. rand-m9-mstd0.5`);
  if (parts[0] !== 'rand') throw bad('unknown name');
  const spec = { kind: 'rand' as const, m: TIMM_LEVEL_DENOM, n: 2, mstd: 0 };
  for (const part of parts.slice(1)) {
    const match = /^(mstd|m|n)(\d+(?:\.\d+)?)$/.exec(part);
    if (!match) throw bad(`unknown part '${part}'`);
    const value = Number(match[2]);
    if (match[1] === 'm') {
      if (!(value <= TIMM_LEVEL_DENOM)) throw bad('m must be at most 10');
      spec.m = value;
    } else if (match[1] === 'n') {
      if (!Number.isInteger(value) || value > 64) throw bad('n must be an integer up to 64');
      spec.n = value;
    } else {
      spec.mstd = value;
    }
  }
  return spec;
}

/** Why `text` is not an auto-augment spec, or undefined when it is one. */
export function autoAugmentProblem(text: string): string | undefined {
  try {
    parseAutoAugment(text);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The transform of a parsed spec; timm's m and mstd become bins of torchvision's 31. */
export function autoAugmentTransform(spec: AutoAugmentSpec, opts: AutoAugmentCommonOptions = {}): Transform {
  if (spec.kind === 'trivial') return new TrivialAugmentWide(opts);
  if (spec.kind !== 'rand') return new AutoAugment({ ...opts, policy: spec.kind });
  const bins = 31, perLevel = (bins - 1) / TIMM_LEVEL_DENOM;
  return new RandAugment({ ...opts, numOps: spec.n, magnitude: spec.m * perLevel, numMagnitudeBins: bins, magnitudeStd: spec.mstd * perLevel });
}

/** The spec written back in the CLI's grammar (for run descriptions and checkpoints). */
export function formatAutoAugment(spec: AutoAugmentSpec): string {
  return spec.kind === 'rand' ? `rand-m${spec.m}-n${spec.n}${spec.mstd ? `-mstd${spec.mstd}` : ''}` : spec.kind;
}
