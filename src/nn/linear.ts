import { Tensor, formatShape, isGradEnabled } from '../tensor/tensor.js';
import { getThreads } from '../tensor/native.js';
import { linearPackedWeights } from '../tensor/linear-weights.js';
import * as ops from '../tensor/ops.js';
import { Module } from './module.js';
import { resetLinearLike } from './init.js';
import { positiveInt } from './options.js';

export interface LinearOptions {
  inFeatures: number;
  outFeatures: number;
  bias?: boolean;
}

/** y = x·Wᵀ + b over the last axis of x (any leading axes). */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Tensor;
  bias: Tensor | null;

  constructor(o: LinearOptions) {
    super();
    this.inFeatures = positiveInt(o.inFeatures, 'inFeatures');
    this.outFeatures = positiveInt(o.outFeatures, 'outFeatures');
    this.weight = this.registerParameter('weight', Tensor.zeros([this.outFeatures, this.inFeatures]));
    this.bias = this.registerParameter('bias', o.bias === false ? null : Tensor.zeros([this.outFeatures]));
    resetLinearLike(this.weight, this.bias);
  }

  forward(x: Tensor): Tensor {
    if (x.ndim < 1 || x.shape[x.ndim - 1] !== this.inFeatures) {
      throw new RangeError(`mat1 and mat2 shapes cannot be multiplied (input ${formatShape(x.shape)}, weight ${formatShape(this.weight.shape)})`);
    }
    // A product that records nothing (eval) multiplies the weights packed once per weight version
    // (a layer's weights change in place only through what moves weights-generation).
    const recording = isGradEnabled() && [x, this.weight, this.bias].some((t) => t?.requiresGrad);
    const packed = recording ? undefined : linearPackedWeights({ outFeatures: this.outFeatures, inFeatures: this.inFeatures }, this.weight, getThreads());
    if (x.ndim === 2) return ops.linear(x, this.weight, this.bias, packed);
    const lead = x.shape.slice(0, -1);
    const y = ops.linear(ops.reshape(x, [-1, this.inFeatures]), this.weight, this.bias, packed);
    return ops.reshape(y, [...lead, this.outFeatures]);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias ? 'True' : 'False'}`;
  }
}
