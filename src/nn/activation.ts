import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../tensor/ops.js';
import { leakyRelu, sigmoid, tanh, softmax } from '../tensor/activation.js';
import { silu, gelu, hardswish, hardsigmoid, type GeluApproximate } from '../tensor/gated.js';
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

/** x·σ(x), as torch.nn.SiLU (EfficientNet's activation). */
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}

/** x·Φ(x), as torch.nn.GELU: approximate 'none' (erf) or 'tanh'. */
export class GELU extends Module {
  readonly approximate: GeluApproximate;

  constructor(approximate: GeluApproximate = 'none') {
    super();
    if (approximate !== 'none' && approximate !== 'tanh') throw new RangeError(`approximate argument must be either none or tanh, not '${String(approximate)}'`);
    this.approximate = approximate;
  }

  forward(x: Tensor): Tensor {
    return gelu(x, this.approximate);
  }

  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** x·relu6(x + 3)/6, as torch.nn.Hardswish (MobileNet v3). */
export class Hardswish extends Module {
  forward(x: Tensor): Tensor {
    return hardswish(x);
  }
}

/** relu6(x + 3)/6, as torch.nn.Hardsigmoid (MobileNet v3's squeeze-and-excitation gate). */
export class Hardsigmoid extends Module {
  forward(x: Tensor): Tensor {
    return hardsigmoid(x);
  }
}
