// Activations and (log-)softmax, as torch.nn.functional's, computed in the addon.
import { emptyFloat32 } from './storage.js';
import { native, getThreads } from './native.js';
import { record } from './ops.js';
import { Tensor } from './tensor.js';

/** x > 0 ? x : negativeSlope·x */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  if (!Number.isFinite(negativeSlope)) throw new RangeError(`leakyRelu: negativeSlope must be a finite number but is ${negativeSlope}`);
  const y = emptyFloat32(x.size);
  native.leakyReluForward(x.data, y, negativeSlope, getThreads());
  return record(new Tensor(y, x.shape), 'leakyRelu', [x], (g) => {
    const dx = emptyFloat32(x.size);
    native.leakyReluBackward(x.data, g.data, dx, negativeSlope, getThreads());
    return [new Tensor(dx, x.shape)];
  });
}

export function sigmoid(x: Tensor): Tensor {
  const y = emptyFloat32(x.size);
  native.sigmoidForward(x.data, y, getThreads());
  return record(new Tensor(y, x.shape), 'sigmoid', [x], (g) => {
    const dx = emptyFloat32(x.size);
    native.sigmoidBackward(y, g.data, dx, getThreads());
    return [new Tensor(dx, x.shape)];
  });
}

export function tanh(x: Tensor): Tensor {
  const y = emptyFloat32(x.size);
  native.tanhForward(x.data, y, getThreads());
  return record(new Tensor(y, x.shape), 'tanh', [x], (g) => {
    const dx = emptyFloat32(x.size);
    native.tanhBackward(y, g.data, dx, getThreads());
    return [new Tensor(dx, x.shape)];
  });
}

/** A dim in [-ndim, ndim) as a non-negative axis; a 0-D tensor takes dim 0 or -1 as PyTorch does. */
export function normalizeDim(dim: number, ndim: number, op: string): number {
  const rank = Math.max(ndim, 1);
  if (!Number.isInteger(dim) || dim < -rank || dim >= rank) {
    throw new RangeError(`${op}: Dimension out of range (expected to be in range of [${-rank}, ${rank - 1}], but got ${dim})`);
  }
  return dim < 0 ? dim + rank : dim;
}

function softmaxImpl(x: Tensor, dim: number, log: boolean): Tensor {
  const name = log ? 'logSoftmax' : 'softmax';
  const axis = normalizeDim(dim, x.ndim, name);
  const shape = x.ndim === 0 ? [1] : x.shape;
  const params = { shape, dim: axis, log };
  const y = emptyFloat32(x.size);
  native.softmaxForward(params, x.data, y, getThreads());
  return record(new Tensor(y, x.shape), name, [x], (g) => {
    const dx = emptyFloat32(x.size);
    native.softmaxBackward(params, y, g.data, dx, getThreads());
    return [new Tensor(dx, x.shape)];
  });
}

/** exp(x) / Σ exp(x) along dim (negative dims count from the end). */
export function softmax(x: Tensor, dim: number): Tensor {
  return softmaxImpl(x, dim, false);
}

/** x - log Σ exp(x) along dim. */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return softmaxImpl(x, dim, true);
}

