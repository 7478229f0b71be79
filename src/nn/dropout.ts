import type { Tensor } from '../tensor/tensor.js';
import { dropout, dropout2d, stochasticDepth, type StochasticDepthMode } from '../tensor/dropout.js';
import { Module } from './module.js';

function checkP(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout probability has to be between 0 and 1, but got ${p}`);
  return p;
}

/** Zeroes elements with probability p in training and scales the rest by 1/(1-p). */
export class Dropout extends Module {
  readonly p: number;

  constructor(p = 0.5) {
    super();
    this.p = checkP(p);
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }

  override extraRepr(): string {
    return `p=${this.p}, inplace=False`;
  }
}

/** Zeroes whole channels with probability p in training. */
export class Dropout2d extends Module {
  readonly p: number;

  constructor(p = 0.5) {
    super();
    this.p = checkP(p);
  }

  forward(x: Tensor): Tensor {
    return dropout2d(x, this.p, this.training);
  }

  override extraRepr(): string {
    return `p=${this.p}, inplace=False`;
  }
}

/** torchvision.ops.StochasticDepth: drops the residual branch per sample ('row') or per batch in training. */
export class StochasticDepth extends Module {
  readonly p: number;

  constructor(p: number, readonly mode: StochasticDepthMode = 'row') {
    super();
    if (!(p >= 0 && p <= 1)) throw new RangeError(`drop probability has to be between 0 and 1, but got ${p}`);
    if (mode !== 'row' && mode !== 'batch') throw new RangeError(`mode has to be either 'batch' or 'row', but got ${String(mode)}`);
    this.p = p;
  }

  forward(x: Tensor): Tensor {
    return stochasticDepth(x, this.p, this.mode, this.training);
  }

  override extraRepr(): string {
    return `p=${this.p}, mode=${this.mode}`;
  }
}
