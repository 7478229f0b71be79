// Dropout, as torch.nn.functional.dropout / dropout2d. The mask comes from one 32-bit seed
// drawn from the Generator and expanded in the addon by a counter-based RNG, so a seeded run
// is reproducible without a per-element JS loop.
import { emptyFloat32, zeroFloat32 } from './storage.js';
import { native, getThreads } from './native.js';
import { record } from './ops.js';
import { defaultGenerator, type Generator } from './random.js';
import { Tensor, formatShape } from './tensor.js';

function checkProbability(p: number): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout probability has to be between 0 and 1, but got ${p}`);
}

// Multiplies groups of `group` consecutive elements by one mask entry each.
function applyMask(x: Tensor, maskSize: number, p: number, generator: Generator, name: string): Tensor {
  const mask = zeroFloat32(maskSize);  // all zeros: p = 1 drops everything
  if (p < 1) native.dropoutMask(generator.nextUint32(), p, mask, getThreads());
  const group = maskSize === 0 ? 1 : x.size / maskSize;
  const y = emptyFloat32(x.size);
  if (maskSize > 0) native.dropoutApply(x.data, mask, group, y, getThreads());
  return record(new Tensor(y, x.shape), name, [x], (g) => {
    const dx = emptyFloat32(x.size);
    if (maskSize > 0) native.dropoutApply(g.data, mask, group, dx, getThreads());
    return [new Tensor(dx, x.shape)];
  });
}

/** Zeroes each element with probability p and scales the rest by 1/(1-p); identity unless training. */
export function dropout(x: Tensor, p = 0.5, training = true, generator: Generator = defaultGenerator): Tensor {
  checkProbability(p);
  if (!training || p === 0) return x;
  return applyMask(x, x.size, p, generator, 'dropout');
}

/**
 * Zeroes whole channels: one draw per (n, c) of x (N, C, H, W), or (N, C, L) as PyTorch 1.13
 * treats 3-D input; kept channels are scaled by 1/(1-p).
 */
export function dropout2d(x: Tensor, p = 0.5, training = true, generator: Generator = defaultGenerator): Tensor {
  checkProbability(p);
  if (x.ndim < 2) {
    throw new RangeError(`dropout2d: Feature dropout requires at least 2 dimensions in the input, got ${formatShape(x.shape)}`);
  }
  if (!training || p === 0) return x;
  return applyMask(x, x.shape[0] * x.shape[1], p, generator, 'dropout2d');
}

export type StochasticDepthMode = 'row' | 'batch';

/**
 * torchvision.ops.stochastic_depth: zeroes the whole input ('batch') or each sample ('row')
 * with probability p and scales survivors by 1/(1-p); identity unless training.
 */
export function stochasticDepth(x: Tensor, p: number, mode: StochasticDepthMode, training = true, generator: Generator = defaultGenerator): Tensor {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`drop probability has to be between 0 and 1, but got ${p}`);
  if (mode !== 'row' && mode !== 'batch') throw new RangeError(`mode has to be either 'batch' or 'row', but got ${String(mode)}`);
  if (!training || p === 0) return x;
  if (mode === 'row' && x.ndim < 1) throw new RangeError('stochasticDepth: row mode needs an input with a batch axis');
  return applyMask(x, mode === 'row' ? x.shape[0] : 1, p, generator, 'stochasticDepth');
}
