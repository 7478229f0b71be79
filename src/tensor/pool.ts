// Differentiable 2-D pooling over NCHW tensors, as torch.nn.functional's max_pool2d, avg_pool2d,
// adaptive_avg_pool2d and adaptive_max_pool2d (same output sizes, windows, divisors, argmax).
import { emptyFloat32 } from './storage.js';
import { native, getThreads, type MaxPoolParams, type AvgPoolParams, type PlaneParams } from './native.js';
import { convOutputSize, intPair } from './shape.js';
import { record } from './ops.js';
import { Tensor, formatShape, isGradEnabled, shapeSize, type Shape } from './tensor.js';

export interface MaxPool2dOptions {
  kernelSize: [number, number];
  /** Defaults to kernelSize, as PyTorch. */
  stride?: [number, number];
  /** -inf padding on each side; at most half the kernel. Default [0, 0]. */
  padding?: [number, number];
  dilation?: [number, number];
  /** Round the output size up; the last window must still start inside the input or left padding. */
  ceilMode?: boolean;
}

export interface AvgPool2dOptions {
  kernelSize: [number, number];
  stride?: [number, number];
  /** Zero padding on each side; at most half the kernel. Default [0, 0]. */
  padding?: [number, number];
  ceilMode?: boolean;
  /** Count padded zeros in the divisor (PyTorch's default true). */
  countIncludePad?: boolean;
  /** Divide every window by this instead (non-zero). */
  divisorOverride?: number;
}

function expect4d(x: Tensor, op: string): [number, number, number, number] {
  if (x.ndim !== 4) {
    throw new RangeError(`${op}: expected a 4-D input (N, C, H, W) but got shape ${formatShape(x.shape)}`);
  }
  const [n, c, h, w] = x.shape;
  if (n < 1 || c < 1 || h < 1 || w < 1) {
    throw new RangeError(`${op}: expected a non-empty input but got shape ${formatShape(x.shape)}`);
  }
  return [n, c, h, w];
}

// pool2d_shape_check: pads at most half the kernel, output at least 1×1.
function poolShape(op: string, xShape: Shape, k: [number, number], s: [number, number], p: [number, number],
  d: [number, number], ceilMode: boolean): [number, number] {
  const [, c, h, w] = xShape;
  if (p[0] > Math.floor(k[0] / 2) || p[1] > Math.floor(k[1] / 2)) {
    throw new RangeError(`${op}: pad should be at most half of kernel size, but got padding [${p[0]}, ${p[1]}] and kernelSize [${k[0]}, ${k[1]}]`);
  }
  const oh = convOutputSize(h, k[0], s[0], p[0], d[0], ceilMode);
  const ow = convOutputSize(w, k[1], s[1], p[1], d[1], ceilMode);
  if (oh < 1 || ow < 1) {
    throw new RangeError(`${op}: Given input size: (${c}x${h}x${w}). Calculated output size: (${c}x${oh}x${ow}). Output size is too small`);
  }
  return [oh, ow];
}

function maxPoolParams(x: Tensor, o: MaxPool2dOptions, op: string): { p: MaxPoolParams; outShape: number[] } {
  const [n, c, h, w] = expect4d(x, op);
  const k = intPair(o.kernelSize, 'kernelSize', 1, op);
  const s = intPair(o.stride ?? k, 'stride', 1, op);
  const pad = intPair(o.padding ?? 0, 'padding', 0, op);
  const d = intPair(o.dilation ?? 1, 'dilation', 1, op);
  const ceilMode = o.ceilMode ?? false;
  const [oh, ow] = poolShape(op, x.shape, k, s, pad, d, ceilMode);
  return {
    p: { n, c, h, w, kh: k[0], kw: k[1], strideH: s[0], strideW: s[1], padH: pad[0], padW: pad[1], dilH: d[0], dilW: d[1], ceilMode },
    outShape: [n, c, oh, ow],
  };
}

// Output of a max pool plus its argmax indices; backward routes the gradient through them.
function maxPoolWithIndices(x: Tensor, name: string, outShape: number[],
  forward: (y: Float32Array, indices: Float32Array) => void): [Tensor, Tensor] {
  const [n, c, h, w] = x.shape;
  const [, , oh, ow] = outShape;
  const size = n * c * oh * ow;
  const y = emptyFloat32(size), indices = emptyFloat32(size);
  forward(y, indices);
  const planes: PlaneParams = { planes: n * c, h, w, outH: oh, outW: ow };
  const out = record(new Tensor(y, outShape), name, [x], (g) => {
    const dx = emptyFloat32(x.size);
    native.maxPoolBackward(planes, g.data, indices, dx, getThreads());
    return [new Tensor(dx, x.shape)];
  });
  return [out, new Tensor(indices, outShape)];
}

/** torch.nn.functional.max_pool2d with return_indices=True: indices are flat H×W positions. */
export function maxPool2dWithIndices(x: Tensor, o: MaxPool2dOptions): [Tensor, Tensor] {
  const { p, outShape } = maxPoolParams(x, o, 'maxPool2d');
  return maxPoolWithIndices(x, 'maxPool2d', outShape,
    (y, indices) => native.maxPool2dForward(p, x.data, y, indices, getThreads()));
}

/**
 * torch.nn.functional.max_pool2d (NCHW). clamp [lo, hi]: eval fusion's ReLU (0, Infinity) or
 * ReLU6 (0, 6) before the pool, applied to the 4× smaller output instead (max commutes with
 * them); it records no gradient. Without a gradient to record, no argmax is kept.
 */
export function maxPool2d(x: Tensor, o: MaxPool2dOptions & { clamp?: [number, number] }): Tensor {
  if (isGradEnabled() && x.requiresGrad) {
    if (o.clamp) throw new RangeError('maxPool2d: clamp is an inference epilogue; it has no gradient (record none: noGrad, or an input without requiresGrad)');
    return maxPool2dWithIndices(x, o)[0];
  }
  const { p, outShape } = maxPoolParams(x, o, 'maxPool2d');
  const y = emptyFloat32(shapeSize(outShape));
  native.maxPool2dForward(o.clamp ? { ...p, clamp: o.clamp } : p, x.data, y, null, getThreads());
  return new Tensor(y, outShape);
}

/** torch.nn.functional.avg_pool2d (NCHW), with PyTorch's divisor rules. */
export function avgPool2d(x: Tensor, o: AvgPool2dOptions): Tensor {
  const op = 'avgPool2d';
  const [n, c, h, w] = expect4d(x, op);
  const k = intPair(o.kernelSize, 'kernelSize', 1, op);
  const s = intPair(o.stride ?? k, 'stride', 1, op);
  const pad = intPair(o.padding ?? 0, 'padding', 0, op);
  const ceilMode = o.ceilMode ?? false;
  const divisor = o.divisorOverride;
  if (divisor !== undefined && (!Number.isInteger(divisor) || divisor === 0)) {
    throw new RangeError(`${op}: divisorOverride must be a non-zero integer but got ${divisor}`);
  }
  const [oh, ow] = poolShape(op, x.shape, k, s, pad, [1, 1], ceilMode);
  const p: AvgPoolParams = {
    n, c, h, w, kh: k[0], kw: k[1], strideH: s[0], strideW: s[1], padH: pad[0], padW: pad[1], ceilMode,
    countIncludePad: o.countIncludePad ?? true, divisorOverride: divisor ?? 0,
  };
  const outShape = [n, c, oh, ow];
  const y = emptyFloat32(n * c * oh * ow);
  native.avgPool2dForward(p, x.data, y, getThreads());
  return record(new Tensor(y, outShape), op, [x], (g) => {
    const dx = emptyFloat32(x.size);
    native.avgPool2dBackward(p, g.data, dx, getThreads());
    return [new Tensor(dx, x.shape)];
  });
}

/** x's N, C and the planes an adaptive pool to outputSize walks. */
function adaptiveShape(x: Tensor, outputSize: [number, number], op: string): { n: number; c: number; planes: PlaneParams } {
  if (x.ndim === 4 && x.shape.slice(2).some((d) => d === 0)) {
    throw new RangeError(`${op}: Expected input to have non-zero size for non-batch dimensions, but input has sizes ${formatShape(x.shape)}`);
  }
  const [n, c, h, w] = expect4d(x, op);
  const [oh, ow] = intPair(outputSize, 'outputSize', 1, op);
  return { n, c, planes: { planes: n * c, h, w, outH: oh, outW: ow } };
}

/** torch.nn.functional.adaptive_avg_pool2d: bin i covers [floor(i·H/oh), ceil((i+1)·H/oh)). */
export function adaptiveAvgPool2d(x: Tensor, outputSize: [number, number]): Tensor {
  const op = 'adaptiveAvgPool2d';
  const { n, c, planes } = adaptiveShape(x, outputSize, op);
  const y = emptyFloat32(planes.planes * planes.outH * planes.outW);
  native.adaptiveAvgPool2dForward(planes, x.data, y, getThreads());
  return record(new Tensor(y, [n, c, planes.outH, planes.outW]), op, [x], (g) => {
    const dx = emptyFloat32(x.size);
    native.adaptiveAvgPool2dBackward(planes, g.data, dx, getThreads());
    return [new Tensor(dx, x.shape)];
  });
}

/** torch.nn.functional.adaptive_max_pool2d with return_indices=True. */
export function adaptiveMaxPool2dWithIndices(x: Tensor, outputSize: [number, number]): [Tensor, Tensor] {
  const op = 'adaptiveMaxPool2d';
  const { n, c, planes } = adaptiveShape(x, outputSize, op);
  return maxPoolWithIndices(x, op, [n, c, planes.outH, planes.outW],
    (y, indices) => native.adaptiveMaxPool2dForward(planes, x.data, y, indices, getThreads()));
}

/** torch.nn.functional.adaptive_max_pool2d. */
export function adaptiveMaxPool2d(x: Tensor, outputSize: [number, number]): Tensor {
  return adaptiveMaxPool2dWithIndices(x, outputSize)[0];
}
