// Conv2d, ConvTranspose2d and DepthwiseSeparableConv with PyTorch's options and defaults.
import { Tensor, formatShape } from '../tensor/tensor.js';
import * as ops from '../tensor/ops.js';
import { pad2d } from '../tensor/pad.js';
import { convTranspose2d } from '../tensor/conv_transpose.js';
import { Module } from './module.js';
import { resetLinearLike } from './init.js';
import { pair, formatPair, positiveInt, type Pair } from './options.js';
import { BatchNorm2d } from './norm.js';
import { ReLU } from './activation.js';
import { runLayers } from './fusion.js';
import type { OnnxExporter, OnnxValue } from './onnx-export.js';

export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

export interface Conv2dOptions {
  inChannels: number;
  outChannels: number;
  kernelSize: Pair;
  stride?: Pair;
  padding?: Pair | 'same' | 'valid';
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
  paddingMode?: PaddingMode;
}

const PADDING_MODES: readonly PaddingMode[] = ['zeros', 'reflect', 'replicate', 'circular'];

/** Accepts CHW (unbatched) like PyTorch by adding and removing the batch axis. */
export function batched(x: Tensor, layer: string, fn: (x4: Tensor) => Tensor): Tensor {
  if (x.ndim === 4) return fn(x);
  if (x.ndim === 3) {
    const y = fn(ops.reshape(x, [1, ...x.shape]));
    return ops.reshape(y, y.shape.slice(1));
  }
  throw new RangeError(`Expected 3D (unbatched) or 4D (batched) input to ${layer}, but got input of size: ${formatShape(x.shape)}`);
}

/** The options Conv2d and ConvTranspose2d share, checked with PyTorch's messages. */
function checkConvShape(o: { inChannels: number; outChannels: number; groups?: number; kernelSize: Pair; stride?: Pair }) {
  const inChannels = positiveInt(o.inChannels, 'inChannels');
  const outChannels = positiveInt(o.outChannels, 'outChannels');
  const groups = positiveInt(o.groups ?? 1, 'groups');
  if (inChannels % groups) throw new RangeError('in_channels must be divisible by groups');
  if (outChannels % groups) throw new RangeError('out_channels must be divisible by groups');
  return { inChannels, outChannels, groups, kernelSize: pair(o.kernelSize, 'kernelSize', 1), stride: pair(o.stride ?? 1, 'stride', 1) };
}

export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  readonly paddingMode: PaddingMode;
  /** As given: a pair, 'same' or 'valid'. */
  readonly padding: [number, number] | 'same' | 'valid';
  /** Resolved [top, bottom, left, right]; 'same' puts an odd extra pixel at bottom/right. */
  readonly pads: [number, number, number, number];
  weight: Tensor;
  bias: Tensor | null;

  constructor(o: Conv2dOptions) {
    super();
    ({ inChannels: this.inChannels, outChannels: this.outChannels, groups: this.groups, kernelSize: this.kernelSize, stride: this.stride } = checkConvShape(o));
    this.dilation = pair(o.dilation ?? 1, 'dilation', 1);
    this.paddingMode = o.paddingMode ?? 'zeros';
    if (!PADDING_MODES.includes(this.paddingMode)) {
      throw new RangeError(`padding_mode must be one of ${JSON.stringify(PADDING_MODES)}, but got padding_mode='${String(o.paddingMode)}'`);
    }
    const padding = o.padding ?? 0;
    if (typeof padding === 'string') {
      if (padding !== 'same' && padding !== 'valid') {
        throw new RangeError(`Invalid padding string '${padding}', should be one of ['valid', 'same']`);
      }
      if (padding === 'same' && (this.stride[0] !== 1 || this.stride[1] !== 1)) {
        throw new RangeError("padding='same' is not supported for strided convolutions");
      }
      this.padding = padding;
    } else {
      this.padding = pair(padding, 'padding', 0);
    }
    this.pads = this.resolvePads();
    const [kh, kw] = this.kernelSize;
    this.weight = this.registerParameter('weight', Tensor.zeros([this.outChannels, this.inChannels / this.groups, kh, kw]));
    this.bias = this.registerParameter('bias', o.bias === false ? null : Tensor.zeros([this.outChannels]));
    resetLinearLike(this.weight, this.bias);
  }

  private resolvePads(): [number, number, number, number] {
    if (this.padding === 'valid') return [0, 0, 0, 0];
    if (this.padding === 'same') {
      const total = this.kernelSize.map((k, i) => this.dilation[i] * (k - 1));
      const before = total.map((t) => Math.floor(t / 2));
      return [before[0], total[0] - before[0], before[1], total[1] - before[1]];
    }
    const [ph, pw] = this.padding;
    return [ph, ph, pw, pw];
  }

  forward(x: Tensor): Tensor {
    return this.convolve(x, this.weight, this.bias);
  }

  /** This layer's convolution with other weights (eval-mode fusion passes BatchNorm-folded ones, and
   * what follows them as the kernel's epilogue, which records no gradient: a residual, a clamp). */
  convolve(x: Tensor, weight: Tensor, bias: Tensor | null, epilogue: Pick<ops.Conv2dOptions, 'clamp' | 'residual'> = {}): Tensor {
    return batched(x, 'conv2d', (x4) => {
      if (x4.shape[1] !== this.inChannels) {
        throw new RangeError(`Given groups=${this.groups}, weight of size ${formatShape(weight.shape)}, expected input${formatShape(x4.shape)} to have ${this.inChannels} channels, but got ${x4.shape[1]} channels instead`);
      }
      const conv = { stride: this.stride, dilation: this.dilation, groups: this.groups, ...epilogue };
      if (this.paddingMode === 'zeros') return ops.conv2d(x4, weight, bias, { ...conv, padding: this.pads });
      const [t, b, l, r] = this.pads;
      const padded = pad2d(x4, [l, r, t, b], this.paddingMode);
      return ops.conv2d(padded, weight, bias, conv);
    });
  }

  /** This layer's convolution with other weights, clamped, then max-pooled 2×2 with stride 2, in one
   * pass (eval fusion of conv → ReLU → MaxPool2d); null, having done nothing, where the kernel
   * has no such path for this layer (then the layers run one by one). Records a gradient only
   * with ReLU's clamp [0, Infinity] (ops.conv2dMaxPool). */
  convolvePooled(x: Tensor, weight: Tensor, bias: Tensor | null, clamp?: [number, number]): Tensor | null {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels || this.paddingMode !== 'zeros') return null;
    return ops.conv2dMaxPool(x, weight, bias, { stride: this.stride, dilation: this.dilation, groups: this.groups, padding: this.pads, clamp });
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}`, `kernel_size=${formatPair(this.kernelSize)}`, `stride=${formatPair(this.stride)}`];
    if (this.padding === 'same' || this.padding === 'valid') parts.push(`padding=${this.padding}`);
    else if (this.padding[0] || this.padding[1]) parts.push(`padding=${formatPair(this.padding)}`);
    if (this.dilation[0] !== 1 || this.dilation[1] !== 1) parts.push(`dilation=${formatPair(this.dilation)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push('bias=False');
    if (this.paddingMode !== 'zeros') parts.push(`padding_mode=${this.paddingMode}`);
    return parts.join(', ');
  }
}

export interface ConvTranspose2dOptions {
  inChannels: number;
  outChannels: number;
  kernelSize: Pair;
  stride?: Pair;
  padding?: Pair;
  outputPadding?: Pair;
  groups?: number;
  bias?: boolean;
  dilation?: Pair;
  paddingMode?: 'zeros';
}

export class ConvTranspose2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly outputPadding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  weight: Tensor;
  bias: Tensor | null;

  constructor(o: ConvTranspose2dOptions) {
    super();
    if ((o.paddingMode ?? 'zeros') !== 'zeros') throw new RangeError('Only "zeros" padding mode is supported for ConvTranspose2d');
    ({ inChannels: this.inChannels, outChannels: this.outChannels, groups: this.groups, kernelSize: this.kernelSize, stride: this.stride } = checkConvShape(o));
    this.padding = pair(o.padding ?? 0, 'padding', 0);
    this.outputPadding = pair(o.outputPadding ?? 0, 'outputPadding', 0);
    this.dilation = pair(o.dilation ?? 1, 'dilation', 1);
    const [kh, kw] = this.kernelSize;
    this.weight = this.registerParameter('weight', Tensor.zeros([this.inChannels, this.outChannels / this.groups, kh, kw]));
    this.bias = this.registerParameter('bias', o.bias === false ? null : Tensor.zeros([this.outChannels]));
    resetLinearLike(this.weight, this.bias);
  }

  forward(x: Tensor): Tensor {
    return batched(x, 'conv_transpose2d', (x4) => convTranspose2d(x4, this.weight, this.bias, {
      stride: this.stride, padding: this.padding, outputPadding: this.outputPadding, dilation: this.dilation, groups: this.groups,
    }));
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}`, `kernel_size=${formatPair(this.kernelSize)}`, `stride=${formatPair(this.stride)}`];
    if (this.padding[0] || this.padding[1]) parts.push(`padding=${formatPair(this.padding)}`);
    if (this.outputPadding[0] || this.outputPadding[1]) parts.push(`output_padding=${formatPair(this.outputPadding)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push('bias=False');
    return parts.join(', ');
  }
}

export interface DepthwiseSeparableConvOptions {
  inChannels: number;
  outChannels: number;
  kernelSize?: Pair;
  stride?: Pair;
  padding?: Pair | 'same' | 'valid';
  dilation?: Pair;
  /** BatchNorm + ReLU after each convolution (MobileNet v1's block); the pointwise conv then has no bias. */
  batchNorm?: boolean;
}

/**
 * A depthwise convolution (groups = inChannels, no bias) then a 1×1 pointwise convolution
 * (with bias). Children: depthwise, pointwise (and bn1, relu1, bn2, relu2 with batchNorm).
 */
export class DepthwiseSeparableConv extends Module {
  readonly depthwise: Conv2d;
  readonly pointwise: Conv2d;
  private readonly post: Module[][];

  constructor(o: DepthwiseSeparableConvOptions) {
    super();
    const norm = o.batchNorm ?? false;
    this.depthwise = this.registerModule('depthwise', new Conv2d({
      inChannels: o.inChannels, outChannels: o.inChannels, kernelSize: o.kernelSize ?? 3, stride: o.stride ?? 1,
      padding: o.padding ?? 1, dilation: o.dilation ?? 1, groups: o.inChannels, bias: false,
    }));
    const afterDepthwise = norm ? [this.registerModule('bn1', new BatchNorm2d({ numFeatures: o.inChannels })), this.registerModule('relu1', new ReLU())] : [];
    this.pointwise = this.registerModule('pointwise', new Conv2d({ inChannels: o.inChannels, outChannels: o.outChannels, kernelSize: 1, bias: !norm }));
    const afterPointwise = norm ? [this.registerModule('bn2', new BatchNorm2d({ numFeatures: o.outChannels })), this.registerModule('relu2', new ReLU())] : [];
    this.post = [afterDepthwise, afterPointwise];
  }

  forward(x: Tensor): Tensor {
    return runLayers([this.depthwise, ...this.post[0], this.pointwise, ...this.post[1]], x);
  }

  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    let y = ctx.module(this.depthwise, x);
    for (const m of this.post[0]) y = ctx.module(m, y);
    y = ctx.module(this.pointwise, y);
    for (const m of this.post[1]) y = ctx.module(m, y);
    return y;
  }
}
