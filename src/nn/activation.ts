import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../tensor/ops.js';
import { leakyRelu, sigmoid, tanh, softmax } from '../tensor/activation.js';
import { Module } from './module.js';

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return ops.relu(x);
  }
}

export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }

  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }

  override extraRepr(): string {
    return `negative_slope=${this.negativeSlope}`;
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

export class Softmax extends Module {
  constructor(readonly dim = -1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }
}

/** min(max(x, 0), 6), as torch.nn.ReLU6 (MobileNet v2). */
export class ReLU6 extends Module {
  forward(x: Tensor): Tensor {
    return ops.hardtanh(x, 0, 6);
  }
}
