import { Tensor } from '../tensor/tensor.js';
import { layerNorm, layerNorm2d, groupNorm } from '../tensor/layer_norm.js';
import { Module } from './module.js';
import { positiveInt } from './options.js';

export interface LayerNormOptions {
  /** The trailing dims normalized over (a number is one dim). */
  normalizedShape: number | readonly number[];
  eps?: number;
  /** Learnable per-element weight (ones) and bias (zeros) of normalizedShape. */
  elementwiseAffine?: boolean;
}

/** Normalizes over the trailing normalizedShape dims of each sample, as torch.nn.LayerNorm. */
export class LayerNorm extends Module {
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;

  constructor(o: LayerNormOptions) {
    super();
    const shape = typeof o.normalizedShape === 'number' ? [o.normalizedShape] : [...o.normalizedShape];
    if (shape.length === 0) throw new RangeError('LayerNorm: normalizedShape must have at least one dim');
    this.normalizedShape = shape.map((d) => positiveInt(d, 'normalizedShape'));
    this.eps = o.eps ?? 1e-5;
    if (!(this.eps >= 0)) throw new RangeError(`LayerNorm: eps must be non-negative but is ${this.eps}`);
    this.elementwiseAffine = o.elementwiseAffine ?? true;
    this.weight = this.registerParameter('weight', this.elementwiseAffine ? Tensor.ones(this.normalizedShape) : null);
    this.bias = this.registerParameter('bias', this.elementwiseAffine ? Tensor.zeros(this.normalizedShape) : null);
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `(${this.normalizedShape.join(', ')},), eps=${this.eps}, elementwise_affine=${this.elementwiseAffine ? 'True' : 'False'}`;
  }
}

/**
 * LayerNorm over the channels of NCHW input at every pixel, as torchvision's LayerNorm2d
 * (ConvNeXt): the same as permuting to NHWC, LayerNorm(C), permuting back, without the copies.
 */
export class LayerNorm2d extends LayerNorm {
  constructor(o: LayerNormOptions) {
    super(o);
    if (this.normalizedShape.length !== 1) throw new RangeError('LayerNorm2d: normalizedShape must be the channel count');
  }

  override forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.normalizedShape[0]) {
      throw new RangeError(`LayerNorm2d: expected input (N, ${this.normalizedShape[0]}, H, W) but got [${x.shape.join(', ')}]`);
    }
    return layerNorm2d(x, this.weight, this.bias, this.eps);
  }
}

export interface GroupNormOptions {
  numGroups: number;
  numChannels: number;
  eps?: number;
  /** Learnable per-channel weight (ones) and bias (zeros). */
  affine?: boolean;
}

/** Normalizes each sample over groups of channels, as torch.nn.GroupNorm. */
export class GroupNorm extends Module {
  readonly numGroups: number;
  readonly numChannels: number;
  readonly eps: number;
  readonly affine: boolean;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;

  constructor(o: GroupNormOptions) {
    super();
    this.numGroups = positiveInt(o.numGroups, 'numGroups');
    this.numChannels = positiveInt(o.numChannels, 'numChannels');
    if (this.numChannels % this.numGroups !== 0) throw new RangeError('num_channels must be divisible by num_groups');
    this.eps = o.eps ?? 1e-5;
    if (!(this.eps >= 0)) throw new RangeError(`GroupNorm: eps must be non-negative but is ${this.eps}`);
    this.affine = o.affine ?? true;
    this.weight = this.registerParameter('weight', this.affine ? Tensor.ones([this.numChannels]) : null);
    this.bias = this.registerParameter('bias', this.affine ? Tensor.zeros([this.numChannels]) : null);
  }

  forward(x: Tensor): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.numChannels) {
      throw new RangeError(`GroupNorm: expected input (N, ${this.numChannels}, ...) but got [${x.shape.join(', ')}]`);
    }
    return groupNorm(x, this.numGroups, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${this.affine ? 'True' : 'False'}`;
  }
}
