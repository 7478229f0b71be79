import type { Tensor } from '../tensor/tensor.js';
import { maxPool2d, maxPool2dWithIndices, avgPool2d, adaptiveAvgPool2d, adaptiveMaxPool2d, adaptiveMaxPool2dWithIndices } from '../tensor/pool.js';
import { Module } from './module.js';
import { batched } from './conv.js';
import { pair, formatPair, type Pair } from './options.js';

export interface MaxPool2dOptions {
  kernelSize: Pair;
  /** Defaults to kernelSize. */
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
  /** forwardWithIndices() gives the argmax indices (forward() always returns the output). */
  returnIndices?: boolean;
}

export class MaxPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly ceilMode: boolean;
  readonly returnIndices: boolean;

  constructor(o: MaxPool2dOptions) {
    super();
    this.kernelSize = pair(o.kernelSize, 'kernelSize', 1);
    this.stride = pair(o.stride ?? o.kernelSize, 'stride', 1);
    this.padding = pair(o.padding ?? 0, 'padding', 0);
    this.dilation = pair(o.dilation ?? 1, 'dilation', 1);
    this.ceilMode = o.ceilMode ?? false;
    this.returnIndices = o.returnIndices ?? false;
  }

  private get opts() {
    return { kernelSize: this.kernelSize, stride: this.stride, padding: this.padding, dilation: this.dilation, ceilMode: this.ceilMode };
  }

  forward(x: Tensor): Tensor {
    return batched(x, 'max_pool2d', (x4) => maxPool2d(x4, this.opts));
  }

  /** forward(act(x)) for act ReLU (clamp [0, Infinity]) or ReLU6 ([0, 6]): the pool first, the
   * activation on its output (eval fusion; no gradient is recorded). */
  poolClamped(x: Tensor, clamp: [number, number]): Tensor {
    return batched(x, 'max_pool2d', (x4) => maxPool2d(x4, { ...this.opts, clamp }));
  }

  /** [output, indices]: indices are flat positions in each input plane, as PyTorch's. */
  forwardWithIndices(x: Tensor): [Tensor, Tensor] {
    return maxPool2dWithIndices(x, this.opts);
  }

  override extraRepr(): string {
    return `kernel_size=${formatPair(this.kernelSize)}, stride=${formatPair(this.stride)}, padding=${formatPair(this.padding)}, dilation=${formatPair(this.dilation)}, ceil_mode=${this.ceilMode ? 'True' : 'False'}`;
  }
}

export interface AvgPool2dOptions {
  kernelSize: Pair;
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number;
}

export class AvgPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | undefined;

  constructor(o: AvgPool2dOptions) {
    super();
    this.kernelSize = pair(o.kernelSize, 'kernelSize', 1);
    this.stride = pair(o.stride ?? o.kernelSize, 'stride', 1);
    this.padding = pair(o.padding ?? 0, 'padding', 0);
    this.ceilMode = o.ceilMode ?? false;
    this.countIncludePad = o.countIncludePad ?? true;
    if (o.divisorOverride !== undefined && (!Number.isInteger(o.divisorOverride) || o.divisorOverride === 0)) {
      throw new RangeError('divisor must be not zero');
    }
    this.divisorOverride = o.divisorOverride;
  }

  forward(x: Tensor): Tensor {
    return batched(x, 'avg_pool2d', (x4) => avgPool2d(x4, {
      kernelSize: this.kernelSize, stride: this.stride, padding: this.padding, ceilMode: this.ceilMode,
      countIncludePad: this.countIncludePad, divisorOverride: this.divisorOverride,
    }));
  }

  override extraRepr(): string {
    return `kernel_size=${formatPair(this.kernelSize)}, stride=${formatPair(this.stride)}, padding=${formatPair(this.padding)}`;
  }
}

/** n, [h, w], or null in either place for "keep the input's size". */
export type AdaptiveSize = number | readonly [number | null, number | null];

function resolveAdaptive(size: AdaptiveSize, x: Tensor): [number, number] {
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  const out: [number, number] = [h ?? x.shape[x.ndim - 2], w ?? x.shape[x.ndim - 1]];
  if (out.some((v) => !Number.isInteger(v) || v < 1)) throw new RangeError(`adaptive pooling output size must be positive integers but is ${JSON.stringify(size)}`);
  return out;
}

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: AdaptiveSize) {
    super();
  }

  forward(x: Tensor): Tensor {
    return batched(x, 'adaptive_avg_pool2d', (x4) => adaptiveAvgPool2d(x4, resolveAdaptive(this.outputSize, x4)));
  }

  override extraRepr(): string {
    return `output_size=${JSON.stringify(this.outputSize)}`;
  }
}

export class AdaptiveMaxPool2d extends Module {
  constructor(readonly outputSize: AdaptiveSize) {
    super();
  }

  forward(x: Tensor): Tensor {
    return batched(x, 'adaptive_max_pool2d', (x4) => adaptiveMaxPool2d(x4, resolveAdaptive(this.outputSize, x4)));
  }

  forwardWithIndices(x: Tensor): [Tensor, Tensor] {
    return adaptiveMaxPool2dWithIndices(x, resolveAdaptive(this.outputSize, x));
  }

  override extraRepr(): string {
    return `output_size=${JSON.stringify(this.outputSize)}`;
  }
}
