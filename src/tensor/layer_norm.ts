// Layer and group normalization, as torch.nn.functional.layer_norm and group_norm, plus the
// channel LayerNorm of NCHW that ConvNeXt uses (torchvision's LayerNorm2d), in the addon.
import { emptyFloat32, zeroFloat32 } from './storage.js';
import { native, getThreads } from './native.js';
import { record } from './ops.js';
import { Tensor, formatShape } from './tensor.js';

function checkEps(eps: number, op: string): void {
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new RangeError(`${op}: eps must be a finite non-negative number but is ${eps}`);
}

function checkAffine(t: Tensor | null, size: number, what: string, op: string): void {
  if (t && t.size !== size) throw new RangeError(`${op}: ${what} of shape ${formatShape(t.shape)} does not have ${size} elements`);
}

// Normalizes x viewed as (outer, d, inner) over d; weight/bias hold d values.
function normalizeMiddle(x: Tensor, weight: Tensor | null, bias: Tensor | null, outer: number, d: number,
  inner: number, eps: number, name: string): Tensor {
  const y = emptyFloat32(x.size);
  const mean = zeroFloat32(outer * inner), rstd = zeroFloat32(outer * inner);
  if (x.size > 0) native.layerNormForward({ x: x.data, weight: weight?.data ?? null, bias: bias?.data ?? null, outer, d, inner, eps, y, mean, rstd }, getThreads());
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(new Tensor(y, x.shape), name, inputs, (g) => {
    const dx = x.requiresGrad ? emptyFloat32(x.size) : null;
    const dw = weight?.requiresGrad ? zeroFloat32(d) : null;
    const db = bias?.requiresGrad ? zeroFloat32(d) : null;
    if (x.size > 0) native.layerNormBackward({ x: x.data, dy: g.data, weight: weight?.data ?? null, mean, rstd, outer, d, inner, dx, dweight: dw, dbias: db }, getThreads());
    const grads: (Tensor | null)[] = [dx ? new Tensor(dx, x.shape) : null];
    if (weight) grads.push(dw ? new Tensor(dw, weight.shape) : null);
    if (bias) grads.push(db ? new Tensor(db, bias.shape) : null);
    return grads;
  });
}

/** Normalizes over the trailing dims given by normalizedShape; weight/bias have that shape. */
export function layerNorm(x: Tensor, normalizedShape: readonly number[], weight: Tensor | null = null,
  bias: Tensor | null = null, eps = 1e-5): Tensor {
  checkEps(eps, 'layerNorm');
  const k = normalizedShape.length;
  const tail = x.shape.slice(x.ndim - k);
  if (k === 0 || k > x.ndim || tail.some((v, i) => v !== normalizedShape[i])) {
    throw new RangeError(`layerNorm: Given normalized_shape=${formatShape(normalizedShape)}, expected input with shape [*, ${normalizedShape.join(', ')}], but got input of size ${formatShape(x.shape)}`);
  }
  const d = tail.reduce((a, b) => a * b, 1);
  checkAffine(weight, d, 'weight', 'layerNorm');
  checkAffine(bias, d, 'bias', 'layerNorm');
  return normalizeMiddle(x, weight, bias, d === 0 ? 0 : x.size / d, d, 1, eps, 'layerNorm');
}

/** LayerNorm over the channels of x (N, C, ...) at every position, as ConvNeXt's LayerNorm2d. */
export function layerNorm2d(x: Tensor, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-6): Tensor {
  checkEps(eps, 'layerNorm2d');
  if (x.ndim < 2) throw new RangeError(`layerNorm2d: expected an input (N, C, ...) but got ${formatShape(x.shape)}`);
  const [n, c] = x.shape;
  checkAffine(weight, c, 'weight', 'layerNorm2d');
  checkAffine(bias, c, 'bias', 'layerNorm2d');
  return normalizeMiddle(x, weight, bias, n, c, c === 0 || n === 0 ? 0 : x.size / (n * c), eps, 'layerNorm2d');
}

/** Normalizes each sample over groups of C/numGroups channels, then scales per channel. */
export function groupNorm(x: Tensor, numGroups: number, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  checkEps(eps, 'groupNorm');
  if (x.ndim < 2) throw new RangeError(`groupNorm: expected an input (N, C, ...) but got ${formatShape(x.shape)}`);
  const [n, c] = x.shape;
  if (!Number.isInteger(numGroups) || numGroups < 1 || c % numGroups !== 0) {
    throw new RangeError(`Expected number of channels in input to be divisible by num_groups, but got input of shape ${formatShape(x.shape)} and num_groups=${numGroups}`);
  }
  checkAffine(weight, c, 'weight', 'groupNorm');
  checkAffine(bias, c, 'bias', 'groupNorm');
  const s = n * c === 0 ? 0 : x.size / (n * c);
  const y = emptyFloat32(x.size);
  const mean = zeroFloat32(n * numGroups), rstd = zeroFloat32(n * numGroups);
  if (x.size > 0) native.groupNormForward({ x: x.data, weight: weight?.data ?? null, bias: bias?.data ?? null, n, c, s, groups: numGroups, eps, y, mean, rstd }, getThreads());
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(new Tensor(y, x.shape), 'groupNorm', inputs, (g) => {
    const dx = x.requiresGrad ? emptyFloat32(x.size) : null;
    const dw = weight?.requiresGrad ? zeroFloat32(c) : null;
    const db = bias?.requiresGrad ? zeroFloat32(c) : null;
    if (x.size > 0) native.groupNormBackward({ x: x.data, dy: g.data, weight: weight?.data ?? null, mean, rstd, n, c, s, groups: numGroups, dx, dweight: dw, dbias: db }, getThreads());
    const grads: (Tensor | null)[] = [dx ? new Tensor(dx, x.shape) : null];
    if (weight) grads.push(dw ? new Tensor(dw, weight.shape) : null);
    if (bias) grads.push(db ? new Tensor(db, bias.shape) : null);
    return grads;
  });
}
