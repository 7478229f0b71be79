// Initializers with torch.nn.init's formulas, drawing from the seeded generator.
import type { Tensor } from '../tensor/tensor.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import { weightsChanged } from '../tensor/weights-generation.js';

let initEnabled = true;

/**
 * Builds without drawing initial values (like torch's skip_init): for counting parameters or
 * loading a checkpoint straight after, where random initialization would be wasted work.
 */
export function withoutInit<T>(fn: () => T): T {
  const previous = initEnabled;
  initEnabled = false;
  try {
    return fn();
  } finally {
    initEnabled = previous;
  }
}

export type Nonlinearity = 'linear' | 'conv2d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu';
export type FanMode = 'fan_in' | 'fan_out';

export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear': case 'conv2d': case 'sigmoid': return 1;
    case 'tanh': return 5 / 3;
    case 'relu': return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
  }
}

/** fan_in = shape[1]·receptive, fan_out = shape[0]·receptive (receptive = product of shape[2:]). */
export function calculateFanInAndFanOut(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.ndim < 2) throw new RangeError('Fan in and fan out can not be computed for tensor with fewer than 2 dimensions');
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: t.shape[1] * receptive, fanOut: t.shape[0] * receptive };
}

export function uniform_(t: Tensor, low: number, high: number, g: Generator = defaultGenerator): Tensor {
  if (!initEnabled) return t;
  for (let i = 0; i < t.size; i++) t.data[i] = low + (high - low) * g.random();
  weightsChanged();
  return t;
}

export function normal_(t: Tensor, mean: number, std: number, g: Generator = defaultGenerator): Tensor {
  if (!initEnabled) return t;
  for (let i = 0; i < t.size; i++) t.data[i] = mean + std * g.normal();
  weightsChanged();
  return t;
}

export function constant_(t: Tensor, value: number): Tensor {
  t.data.fill(value);
  weightsChanged();
  return t;
}

export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
export const ones_ = (t: Tensor): Tensor => constant_(t, 1);

export interface KaimingOptions {
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
  generator?: Generator;
}

function kaimingStd(t: Tensor, { a = 0, mode = 'fan_in', nonlinearity = 'leaky_relu' }: KaimingOptions): number {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  return calculateGain(nonlinearity, a) / Math.sqrt(mode === 'fan_in' ? fanIn : fanOut);
}

export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, opts);
  return uniform_(t, -bound, bound, opts.generator);
}

export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, opts), opts.generator);
}

/** PyTorch's default for Conv*d and Linear: kaiming-uniform (a=√5) weights, bias U(±1/√fan_in). */
export function resetLinearLike(weight: Tensor, bias: Tensor | null, fanIn = calculateFanInAndFanOut(weight).fanIn): void {
  kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias) {
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound);
  }
}

/** N(mean, std²) redrawn until inside [a, b] (torch.nn.init.trunc_normal_'s distribution; ConvNeXt's init). */
export function truncNormal_(t: Tensor, mean = 0, std = 1, a = -2, b = 2, g: Generator = defaultGenerator): Tensor {
  if (!initEnabled) return t;
  if (!(a < b) || !(std > 0)) throw new RangeError(`truncNormal_: needs a < b and std > 0 (a=${a}, b=${b}, std=${std})`);
  for (let i = 0; i < t.size; i++) {
    let v: number;
    do v = mean + std * g.normal(); while (v < a || v > b);
    t.data[i] = v;
  }
  weightsChanged();
  return t;
}
