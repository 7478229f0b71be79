import type { Tensor } from '../tensor/tensor.js';
import { dropout, dropout2d } from '../tensor/dropout.js';
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
