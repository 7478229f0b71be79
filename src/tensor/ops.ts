// Differentiable ops. Each computes its output in the addon and, when gradients are being
// recorded, attaches a GradNode whose backward calls the matching native backward kernel.
import { emptyFloat32, zeroFloat32 } from './storage.js';
import { native, getThreads, type ConvParams } from './native.js';
import { convOutputSize } from './shape.js';
import { activeProfiler } from './profile.js';
import { Tensor, isGradEnabled, formatShape, sameShape, shapeSize, type Shape, type GradNode } from './tensor.js';
import { winogradWeights } from './winograd-weights.js';
import { denseMapWeights } from './dense-map-weights.js';
import { packedWeights } from './packed-weights.js';
import { lanesWeights } from './lanes-weights.js';
import { linearPackedWeights } from './linear-weights.js';
import { trainingDenseMap } from './training-dense-map.js';

/** Attaches a tape node to `out` when any input needs a gradient and recording is on. */
export function record(out: Tensor, name: string, inputs: readonly Tensor[],
  backward: (grad: Tensor) => (Tensor | null)[]): Tensor {
  if (isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
    const node: GradNode = { name, inputs, backward };
    const layer = activeProfiler()?.currentLayer();
    if (layer) node.layer = layer;
    out.gradFn = node;
    out.requiresGrad = true;
  }
  return out;
}

// ---- shapes ----

export function broadcastShapes(a: Shape, b: Shape, op: string): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1, db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(`${op}: shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Sums `grad` down to `shape` (the inverse of broadcasting). */
export function sumTo(grad: Tensor, shape: Shape): Tensor {
  if (grad.shape.length === shape.length && grad.shape.every((d, i) => d === shape[i])) return grad;
  const padded = [...new Array(grad.ndim - shape.length).fill(1), ...shape];
  const out = zeroFloat32(shapeSize(shape));
  native.sumToShape(grad.data, grad.shape, out, padded);
  return new Tensor(out, shape);
}

export function reshape(x: Tensor, shape: Shape): Tensor {
  const resolved = [...shape];
  const infer = resolved.indexOf(-1);
  if (infer !== resolved.lastIndexOf(-1)) throw new RangeError('reshape: only one dimension can be -1');
  if (infer >= 0) {
    const known = resolved.reduce((p, d, i) => (i === infer ? p : p * d), 1);
    if (known === 0 || x.size % known !== 0) {
      throw new RangeError(`reshape: shape ${formatShape(shape)} is invalid for input of size ${x.size}`);
    }
    resolved[infer] = x.size / known;
  }
  if (shapeSize(resolved) !== x.size) {
    throw new RangeError(`reshape: shape ${formatShape(shape)} is invalid for input of size ${x.size}`);
  }
  const from = x.shape;
  return record(new Tensor(x.data, resolved), 'reshape', [x], (g) => [new Tensor(g.data, from)]);
}

// ---- elementwise ----

const enum Binary { Add = 0, Sub = 1, Mul = 2, Div = 3 }

function binaryRaw(op: Binary, a: Tensor, b: Tensor, name: string): Tensor {
  const shape = broadcastShapes(a.shape, b.shape, name);
  const out = emptyFloat32(shapeSize(shape));
  native.binary({ op, aShape: a.shape, bShape: b.shape, outShape: shape }, a.data, b.data, out, getThreads());
  return new Tensor(out, shape);
}

/** out = a + b for a and b of one size, out may be a's or b's storage (a gradient accumulated in place). */
export function addInto(out: Float32Array, a: Tensor, b: Tensor): void {
  if (a.size !== b.size || out.length !== a.size) throw new RangeError(`addInto: sizes ${a.size}, ${b.size} and ${out.length} differ`);
  native.binary({ op: Binary.Add, aShape: [a.size], bShape: [b.size], outShape: [a.size] }, a.data, b.data, out, getThreads());
}

export function add(a: Tensor, b: Tensor): Tensor {
  return record(binaryRaw(Binary.Add, a, b, 'add'), 'add', [a, b], (g) => [sumTo(g, a.shape), sumTo(g, b.shape)]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return record(binaryRaw(Binary.Sub, a, b, 'sub'), 'sub', [a, b],
    (g) => [sumTo(g, a.shape), b.requiresGrad ? sumTo(mulScalar(g, -1), b.shape) : null]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  return record(binaryRaw(Binary.Mul, a, b, 'mul'), 'mul', [a, b], (g) => [
    a.requiresGrad ? sumTo(binaryRaw(Binary.Mul, g, b, 'mul'), a.shape) : null,
    b.requiresGrad ? sumTo(binaryRaw(Binary.Mul, g, a, 'mul'), b.shape) : null,
  ]);
}

export function div(a: Tensor, b: Tensor): Tensor {
  const out = binaryRaw(Binary.Div, a, b, 'div');
  return record(out, 'div', [a, b], (g) => [
    a.requiresGrad ? sumTo(binaryRaw(Binary.Div, g, b, 'div'), a.shape) : null,
    // d(a/b)/db = -(a/b)/b
    b.requiresGrad ? sumTo(mulScalar(binaryRaw(Binary.Div, binaryRaw(Binary.Mul, g, out, 'div'), b, 'div'), -1), b.shape) : null,
  ]);
}

export function mulScalar(x: Tensor, s: number): Tensor {
  const out = emptyFloat32(x.size);
  native.scale(s, x.data, out, getThreads());
  return record(new Tensor(out, x.shape), 'mulScalar', [x], (g) => [mulScalar(g, s)]);
}

export function relu(x: Tensor): Tensor {
  const out = emptyFloat32(x.size);
  native.reluForward(x.data, out, getThreads());
  return record(new Tensor(out, x.shape), 'relu', [x], (g) => {
    const dx = emptyFloat32(x.size);
    native.reluBackward(x.data, g.data, dx, getThreads());
    return [new Tensor(dx, x.shape)];
  });
}

/** min(max(x, lo), hi); the gradient flows only strictly inside (lo, hi), as F.hardtanh. */
export function hardtanh(x: Tensor, lo: number, hi: number): Tensor {
  const out = emptyFloat32(x.size);
  native.hardtanhForward(x.data, out, lo, hi, getThreads());
  return record(new Tensor(out, x.shape), 'hardtanh', [x], (g) => {
    const dx = emptyFloat32(x.size);
    native.hardtanhBackward(x.data, g.data, dx, lo, hi, getThreads());
    return [new Tensor(dx, x.shape)];
  });
}

// ---- reductions ----

// Tensor.scalar and Tensor.full, in step storage (recycled inside a training step).
function scalar(value: number): Tensor {
  const out = emptyFloat32(1);
  out[0] = value;
  return new Tensor(out, []);
}

function filled(shape: Shape, value: number): Tensor {
  return new Tensor(emptyFloat32(shapeSize(shape)).fill(value), shape);
}

export function sum(x: Tensor): Tensor {
  return record(scalar(native.sum(x.data)), 'sum', [x], (g) => [filled(x.shape, g.item())]);
}

export function mean(x: Tensor): Tensor {
  if (x.size === 0) throw new RangeError('mean of an empty tensor');
  const n = x.size;
  return record(scalar(native.sum(x.data) / n), 'mean', [x], (g) => [filled(x.shape, g.item() / n)]);
}

// ---- linear algebra ----

function gemm(transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: Float32Array, b: Float32Array): Float32Array {
  const c = emptyFloat32(m * n);
  native.gemm({ transA, transB, m, n, k, alpha: 1, beta: 0, lda: transA ? m : k, ldb: transB ? k : n, ldc: n }, a, b, c, getThreads());
  return c;
}

/** (m×k)·(k×n) for 2-D tensors. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 2 || b.ndim !== 2) throw new RangeError(`matmul: expected 2-D tensors but got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  const [m, k] = a.shape, [k2, n] = b.shape;
  if (k !== k2) throw new RangeError(`matmul: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} cannot be multiplied (${k} != ${k2})`);
  return record(new Tensor(gemm(false, false, m, n, k, a.data, b.data), [m, n]), 'matmul', [a, b], (g) => [
    a.requiresGrad ? new Tensor(gemm(false, true, m, k, n, g.data, b.data), a.shape) : null,
    b.requiresGrad ? new Tensor(gemm(true, false, k, n, m, a.data, g.data), b.shape) : null,
  ]);
}

/** Every row of y (row.length floats each) set to row: one copy, then doubling copies of what is filled. */
function fillRows(y: Float32Array, row: Float32Array): void {
  if (y.length === 0) return;
  y.set(row);
  for (let filled = row.length; filled < y.length; filled *= 2) y.copyWithin(filled, 0, Math.min(filled, y.length - filled));
}

/**
 * y = x·wᵀ + b with x (N×in), w (out×in), b (out), as torch.nn.functional.linear. packedB: w
 * packed by gemmPackB (a Linear layer's eval cache, linear-weights.ts), multiplied as it is.
 */
export function linear(x: Tensor, w: Tensor, b: Tensor | null, packedB?: Float32Array): Tensor {
  if (x.ndim !== 2 || w.ndim !== 2 || x.shape[1] !== w.shape[1]) {
    throw new RangeError(`linear: input ${formatShape(x.shape)} does not match weight ${formatShape(w.shape)}`);
  }
  const [n, inF] = x.shape, outF = w.shape[0];
  if (b && (b.ndim !== 1 || b.shape[0] !== outF)) throw new RangeError(`linear: bias ${formatShape(b.shape)} does not match ${outF} outputs`);
  // beta 0 ignores y's contents; with a bias, every row starts as it.
  const y = emptyFloat32(n * outF);
  if (b) fillRows(y, b.data);
  native.gemm({ transA: false, transB: true, m: n, n: outF, k: inF, alpha: 1, beta: b ? 1 : 0, lda: inF, ldb: inF, ldc: outF, ...(packedB ? { packedB } : {}) },
    x.data, w.data, y, getThreads());
  const inputs = b ? [x, w, b] : [x, w];
  return record(new Tensor(y, [n, outF]), 'linear', inputs, (g) => {
    // dx, dW and db in one native call: one parallel region whose threads take the products as tasks.
    const dx = x.requiresGrad ? new Tensor(emptyFloat32(x.size), x.shape) : null;
    const dw = w.requiresGrad ? new Tensor(w.gradientTarget() ?? emptyFloat32(w.size), w.shape) : null;
    const db = b && b.requiresGrad ? new Tensor(b.gradientTarget() ?? emptyFloat32(outF), [outF]) : null;
    native.linearBackward({ m: n, inFeatures: inF, outFeatures: outF }, x.data, w.data, g.data, dx && dx.data, dw && dw.data, db && db.data, getThreads());
    return [dx, dw, db];
  });
}

// ---- convolution ----

export interface Conv2dOptions {
  stride?: [number, number];
  /** [top, bottom, left, right] zero padding. */
  padding?: [number, number, number, number];
  dilation?: [number, number];
  groups?: number;
  /** Eval fusion's epilogue, applied as the kernel stores the output; only where no gradient is
   * recorded. residual: a tensor of the output's shape added after the bias (a ResNet block's identity). */
  residual?: Tensor;
  /** [lo, hi]: the output (with the residual) clamped (ReLU/ReLU6). */
  clamp?: [number, number];
}

export function conv2dParams(xShape: Shape, wShape: Shape, opts: Conv2dOptions): ConvParams {
  if (xShape.length !== 4) throw new RangeError(`conv2d: expected a 4-D input (N, C, H, W) but got ${formatShape(xShape)}`);
  if (wShape.length !== 4) throw new RangeError(`conv2d: expected a 4-D weight but got ${formatShape(wShape)}`);
  const [n, cIn, h, w] = xShape;
  const [cOut, cig, kh, kw] = wShape;
  const groups = opts.groups ?? 1;
  const [strideH, strideW] = opts.stride ?? [1, 1];
  const [padT, padB, padL, padR] = opts.padding ?? [0, 0, 0, 0];
  const [dilH, dilW] = opts.dilation ?? [1, 1];
  if (cig * groups !== cIn) {
    throw new RangeError(`conv2d: weight ${formatShape(wShape)} with groups=${groups} expects ${cig * groups} input channels but the input ${formatShape(xShape)} has ${cIn}`);
  }
  const p = { n, cIn, h, w, cOut, kh, kw, strideH, strideW, padT, padB, padL, padR, dilH, dilW, groups };
  const [, , outH, outW] = convOutputShape(p);
  if (outH < 1 || outW < 1) {
    throw new RangeError(`conv2d: kernel size ${kh}x${kw} (dilation ${dilH}x${dilW}) is larger than the padded input ${h + padT + padB}x${w + padL + padR}`);
  }
  return p;
}

/** conv2dParams, with b checked against the output channels. */
function conv2dParamsWithBias(x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dOptions): ConvParams {
  const p = conv2dParams(x.shape, w.shape, opts);
  if (b && (b.ndim !== 1 || b.shape[0] !== p.cOut)) throw new RangeError(`conv2d: bias ${formatShape(b.shape)} does not match ${p.cOut} output channels`);
  return p;
}

/**
 * maxPool2d(clamp(conv2d(x, w, b)), 2×2, stride 2) in one pass where the direct convolution path
 * or, in eval, Winograd takes the layer (the unpooled output is never stored); null, having done
 * nothing, elsewhere.
 * With a gradient to record, the clamp must be ReLU's [0, Infinity]: the pass also keeps each
 * maximum's position, and backward routes dy through ReLU's mask (on the pooled values, which
 * are the maxima's) and those positions into the convolution's gradients, as the unfused
 * layers' backward passes do.
 */
export function conv2dMaxPool(x: Tensor, w: Tensor, b: Tensor | null, opts: Omit<Conv2dOptions, 'residual'> = {}): Tensor | null {
  const p = conv2dParamsWithBias(x, w, b, opts);
  const recording = isGradEnabled() && [x, w, b].some((t) => t?.requiresGrad);
  if (recording && (opts.clamp?.[0] !== 0 || opts.clamp[1] !== Infinity)) {
    throw new RangeError('conv2dMaxPool: with a gradient to record, the clamp must be ReLU\'s [0, Infinity]');
  }
  const [n, c, oh, ow] = convOutputShape(p);
  if (oh < 2 || ow < 2) return null;
  // Eval's Winograd-transformed weights where that path takes the layer (simplecnn's wider
  // layers); else asked first, so that a layer on another path allocates nothing.
  const winograd = recording ? undefined : winogradWeights(p, w, getThreads());
  if (!winograd && native.convAlgo(p, 'forward', getThreads()) !== 'direct') return null;
  const shape = [n, c, Math.floor(oh / 2), Math.floor(ow / 2)];
  const y = emptyFloat32(shapeSize(shape)), indices = recording ? emptyFloat32(y.length) : null;
  const params = { ...p, ...(opts.clamp ? { clamp: opts.clamp } : {}), ...(winograd ? { winograd } : {}) };
  if (!native.conv2dMaxPoolForward(params, x.data, w.data, b ? b.data : null, y, indices, getThreads())) return null;
  if (!indices) return new Tensor(y, shape);
  return record(new Tensor(y, shape), 'conv2dReluMaxPool', b ? [x, w, b] : [x, w], (g) => {
    const dy = emptyFloat32(n * c * oh * ow);
    native.maxPoolReluBackward({ planes: n * c, h: oh, w: ow, outH: shape[2], outW: shape[3] }, y, g.data, indices, dy, getThreads());
    return convGradients(p, x, w, b, dy);
  });
}

export function convOutputShape(p: ConvParams): number[] {
  return [p.n, p.cOut, convOutputSize(p.h, p.kh, p.strideH, [p.padT, p.padB], p.dilH),
    convOutputSize(p.w, p.kw, p.strideW, [p.padL, p.padR], p.dilW)];
}

/** A 1×1 ungrouped convolution without stride, padding or dilation over 1×1 maps. */
function isPointwiseOnPixels(p: ConvParams): boolean {
  return p.h === 1 && p.w === 1 && p.kh === 1 && p.kw === 1 && p.groups === 1 && p.strideH === 1 && p.strideW === 1 &&
    p.padT === 0 && p.padB === 0 && p.padL === 0 && p.padR === 0;
}

/** 2-D cross-correlation, NCHW, as torch.nn.functional.conv2d with per-side zero padding. */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const p = conv2dParamsWithBias(x, w, b, opts);
  const { clamp, residual } = opts;
  if ((clamp || residual) && isGradEnabled() && [x, w, b, residual].some((t) => t?.requiresGrad)) {
    throw new RangeError('conv2d: clamp and residual are an inference epilogue; they have no gradient (record none: noGrad, or inputs without requiresGrad)');
  }
  const shape = convOutputShape(p);
  if (residual && !sameShape(residual.shape, shape)) {
    throw new RangeError(`conv2d: residual ${formatShape(residual.shape)} does not match the output ${formatShape(shape)}`);
  }
  // A pass that records nothing (eval) may take Winograd or the dense map with the weights re-laid out once per weight version.
  const recording = isGradEnabled() && [x, w, b].some((t) => t?.requiresGrad);
  if (isPointwiseOnPixels(p)) {
    // Each image is one pixel: the convolution is one matrix product over the batch (x·wᵀ + b),
    // not one small product per image (squeeze-and-excitation, the last stages at small inputs);
    // eval's multiplies the weights packed once per weight version, as the other paths' caches.
    const packedB = recording ? undefined : linearPackedWeights({ outFeatures: p.cOut, inFeatures: p.cIn }, w, getThreads());
    const y = linear(reshape(x, [p.n, p.cIn]), reshape(w, [p.cOut, p.cIn]), b, packedB);
    if (residual) native.axpy(1, residual.data, y.data, getThreads());
    if (clamp) native.hardtanhForward(y.data, y.data, clamp[0], clamp[1], getThreads());
    return reshape(y, [p.n, p.cOut, 1, 1]);
  }
  const y = emptyFloat32(shapeSize(shape));
  const epilogue = { ...(clamp ? { clamp } : {}), ...(residual ? { residual: residual.data } : {}) };
  // One that records and will want dx builds the dense map once for its forward and input gradient;
  // eval keeps it packed for the GEMM.
  const denseMap = recording && x.requiresGrad ? trainingDenseMap(p, w, getThreads()) : undefined;
  const denseMapPacked = recording ? undefined : denseMapWeights(p, w, getThreads());
  const winograd = recording || denseMapPacked ? undefined : winogradWeights(p, w, getThreads());
  const packed = recording || denseMapPacked || winograd ? undefined : packedWeights(p, w, getThreads());
  const lanes = recording || denseMapPacked || winograd || packed ? undefined : lanesWeights(p, w, getThreads());
  native.conv2dForward({ ...p, ...epilogue, ...(winograd ? { winograd } : {}), ...(denseMap ? { denseMap } : {}),
    ...(denseMapPacked ? { denseMapPacked } : {}), ...(packed ? { packed } : {}), ...(lanes ? { lanes } : {}) }, x.data, w.data, b ? b.data : null, y,
  getThreads());
  const forward = denseMap;
  return record(new Tensor(y, shape), 'conv2d', b ? [x, w, b] : [x, w], (g) => convGradients(p, x, w, b, g.data, forward));
}

/**
 * [dx, dw, db] of conv2d(x, w, b) given dy, each null where its tensor wants no gradient; denseMap:
 * the forward's dense map of w (trainingDenseMap), for the input gradient.
 */
function convGradients(p: ConvParams, x: Tensor, w: Tensor, b: Tensor | null, dy: Float32Array, denseMap?: Float32Array): (Tensor | null)[] {
  let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
  if (x.requiresGrad) {
    dx = new Tensor(emptyFloat32(x.size), x.shape);
    native.conv2dBackwardInput(denseMap ? { ...p, denseMap } : p, dy, w.data, dx.data, getThreads());
  }
  const wantDb = b !== null && b.requiresGrad;
  if (w.requiresGrad || wantDb) {
    dw = new Tensor((w.requiresGrad ? w.gradientTarget() : null) ?? emptyFloat32(w.size), w.shape);
    db = wantDb ? new Tensor(b.gradientTarget() ?? emptyFloat32(p.cOut), [p.cOut]) : null;
    native.conv2dBackwardWeight(p, x.data, dy, dw.data, db ? db.data : null, getThreads());
    if (!w.requiresGrad) dw = null;
  }
  return [dx, dw, db];
}
