// Eval-mode inference without autograd: Conv2d → BatchNorm2d (→ ReLU/ReLU6 (→ MaxPool2d 2×2)) runs as one
// convolution whose weights and bias have the normalization folded in, with the activation
// applied as the kernel stores each block of output (its clamp epilogue), not as another pass. The folded weights are cached per convolution and rebuilt
// when weights may have changed (weights-generation). Training, recorded gradients and hooks on
// any of the layers (Grad-CAM, summaries) take the unfused path, which keeps every intermediate.
// Without BatchNorm, Conv2d → ReLU/ReLU6 takes the activation as the same epilogue (and a 2×2
// max pool after it, where the direct convolution path runs: the pool as its output leaves the
// kernel's registers-to-memory sweep, the unpooled output never stored; in training too, for
// ReLU, keeping the maxima's positions for one recorded backward), a run of Linear (→
// ReLU/ReLU6) layers runs as one native chain (linear-chain.ts), and a
// ReLU/ReLU6 that no convolution took runs after a MaxPool2d that follows it, on its 4× smaller
// output, and a pointwise Conv2d before an AvgPool2d of separate windows runs after it, on its
// smaller output (DenseNet's transitions). Elsewhere (training, recorded gradients) BatchNorm → ReLU/ReLU6 runs as one pass forward and
// backward (BatchNorm's callWithActivation) when no hook observes either and the BatchNorm's
// forward is its own (not SyncBatchNorm's replacement).
import { Tensor, isGradEnabled } from '../tensor/tensor.js';
import { add } from '../tensor/ops.js';
import { weightsGeneration } from '../tensor/weights-generation.js';
import type { Module } from './module.js';
import { Conv2d } from './conv.js';
import { BatchNorm1d, BatchNorm2d } from './norm.js';
import { ReLU, ReLU6 } from './activation.js';
import { AvgPool2d, MaxPool2d } from './pool.js';
import { Linear } from './linear.js';
import { native, getThreads } from '../tensor/native.js';
import { foldBatchNorm } from './fold-batch-norm.js';
import { runLinearChain } from './linear-chain.js';
import { activeProfiler } from '../tensor/profile.js';

interface Folded {
  generation: number;
  /** BatchNorm's ε, a plain number: assigning another one rebuilds. */
  eps: number;
  /** The tensors folded, so replacing one (layer.weight = new Parameter(...)) rebuilds. */
  sources: (Tensor | null)[];
  weight: Tensor;
  bias: Tensor;
}

const folded = new WeakMap<Conv2d, Folded>();

/** Whether conv → bn may run folded now. */
export function foldable(conv: Module, bn: Module | undefined): bn is BatchNorm2d {
  return conv instanceof Conv2d && bn instanceof BatchNorm2d && !isGradEnabled() && !conv.training && !bn.training &&
    bn.runningMean !== null && bn.runningVar !== null && bn.numFeatures === conv.outChannels && !conv.hasHooks() && !bn.hasHooks();
}

export function foldedWeights(conv: Conv2d, bn: BatchNorm2d): Folded {
  const sources = [conv.weight, conv.bias, bn.weight, bn.bias, bn.runningMean, bn.runningVar];
  const cached = folded.get(conv);
  if (cached && cached.generation === weightsGeneration() && cached.eps === bn.eps && cached.sources.every((t, i) => t === sources[i])) return cached;
  const c = conv.outChannels;
  const { weight, bias } = foldBatchNorm(conv.weight.data, conv.bias ? conv.bias.data : null, c, {
    gamma: bn.weight ? bn.weight.data : null, beta: bn.bias ? bn.bias.data : null, mean: bn.runningMean!.data, variance: bn.runningVar!.data, eps: bn.eps,
  });
  const entry = { generation: weightsGeneration(), eps: bn.eps, sources, weight: new Tensor(weight, conv.weight.shape), bias: new Tensor(bias, [c]) };
  folded.set(conv, entry);
  return entry;
}

const affines = new WeakMap<BatchNorm2d, { generation: number; eps: number; sources: (Tensor | null)[]; scale: Float32Array; shift: Float32Array }>();

/**
 * Eval BatchNorm as y = x·scale[c] + shift[c] (scale = γ/√(var + ε), shift = β − mean·scale), for
 * callers that apply it on the way (DenseNet's concatenation); cached as foldedWeights is.
 */
export function batchNormAffine(bn: BatchNorm2d): { scale: Float32Array; shift: Float32Array } {
  const sources = [bn.weight, bn.bias, bn.runningMean, bn.runningVar];
  const cached = affines.get(bn);
  if (cached && cached.generation === weightsGeneration() && cached.eps === bn.eps && cached.sources.every((t, i) => t === sources[i])) return cached;
  const c = bn.numFeatures, scale = new Float32Array(c), shift = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    const s = (bn.weight ? bn.weight.data[k] : 1) / Math.sqrt(bn.runningVar!.data[k] + bn.eps);
    scale[k] = s;
    shift[k] = (bn.bias ? bn.bias.data[k] : 0) - bn.runningMean!.data[k] * s;
  }
  const entry = { generation: weightsGeneration(), eps: bn.eps, sources, scale, shift };
  affines.set(bn, entry);
  return entry;
}

/** Whether bn (→ act) may run as batchNormAffine's per-channel map clamped to act's range now: eval, no gradient, no hooks. */
export function affineFoldable(bn: Module, act: Module): bn is BatchNorm2d {
  return bn instanceof BatchNorm2d && !isGradEnabled() && !bn.training && bn.runningMean !== null && bn.runningVar !== null &&
    bn.fusable() && activationClamp(act) !== undefined;
}

/** ReLU and ReLU6 as the range the convolution clamps its output to; undefined for any other module. */
export function activationClamp(act: Module | undefined): [number, number] | undefined {
  if (act === undefined || act.hasHooks()) return undefined;
  if (act instanceof ReLU) return [0, Infinity];
  if (act instanceof ReLU6) return [0, 6];
  return undefined;
}

/** Whether layers run fused without recording: no gradient, and no hook wants a fused layer's own output. */
function inferenceFusable(...layers: (Module | undefined)[]): boolean {
  return !isGradEnabled() && layers.every((m) => m !== undefined && !m.hasHooks());
}

/** ReLU's or ReLU6's kernel over y's own storage (a fresh product no one else holds). */
function activateInPlace(y: Tensor, [lo, hi]: [number, number]): Tensor {
  if (hi === Infinity) native.reluForward(y.data, y.data, getThreads());
  else native.hardtanhForward(y.data, y.data, lo, hi, getThreads());
  return y;
}

/** fn as the layer's own work under --profile (its forward, and the backward its tape nodes record), as call() would time it. */
export function asLayer<T>(layer: Module, fn: () => T): T {
  const profiler = activeProfiler();
  return profiler ? profiler.forward(layer, fn) : fn();
}

/** A MaxPool2d the convolution kernels can apply as they store their output: 2×2, stride 2, floor mode. */
export function pairPool(m: Module | undefined): boolean {
  return m instanceof MaxPool2d && !m.hasHooks() && !m.ceilMode && [...m.kernelSize, ...m.stride, ...m.dilation].every((v, k) => v === (k < 4 ? 2 : 1)) &&
    m.padding[0] === 0 && m.padding[1] === 0;
}

/** A 1×1 convolution of stride 1 without padding: each output pixel from its own input pixel. */
export function pointwise(conv: Conv2d): boolean {
  return [...conv.kernelSize, ...conv.stride].every((v) => v === 1) && conv.pads.every((v) => v === 0);
}

/** An average pool whose windows neither overlap nor pad, each averaged over the pixels it holds (no divisor override). */
export function separateWindows(m: Module | undefined): m is AvgPool2d {
  return m instanceof AvgPool2d && m.kernelSize.every((k, i) => k === m.stride[i]) && m.padding.every((v) => v === 0) &&
    m.divisorOverride === undefined;
}

/** Runs layers[i] (and the BatchNorm, activation and pooling after it when they fuse); returns the output and how many layers it used. */
function runFrom(layers: readonly Module[], i: number, x: Tensor): [Tensor, number] {
  const conv = layers[i], bn = layers[i + 1];
  if (foldable(conv, bn)) {
    const { weight, bias } = foldedWeights(conv as Conv2d, bn);
    const clamp = activationClamp(layers[i + 2]);
    // Conv → BatchNorm → ReLU → MaxPool2d (simplecnn): the pool too, where the kernel can.
    const pooled = clamp && pairPool(layers[i + 3]) ? asLayer(conv, () => (conv as Conv2d).convolvePooled(x, weight, bias, clamp)) : null;
    if (pooled) return [pooled, 4];
    return [(conv as Conv2d).convolve(x, weight, bias, { clamp }), clamp ? 3 : 2];
  }
  const next = layers[i + 1];
  const clamp = activationClamp(next);
  // Conv2d → ReLU/ReLU6 → MaxPool2d (LeNet): one pass, the unpooled output never stored; with a
  // gradient to record (training), ReLU only: the pass keeps the maxima's positions for backward.
  const recordable = isGradEnabled() && next instanceof ReLU;
  if (conv instanceof Conv2d && clamp && pairPool(layers[i + 2]) && !conv.hasHooks() && !next.hasHooks() && (recordable || !isGradEnabled())) {
    const pooled = asLayer(conv, () => conv.convolvePooled(x, conv.weight, conv.bias, clamp));
    if (pooled) return [pooled, 3];
  }
  // Conv2d → ReLU/ReLU6 without BatchNorm (LeNet, VGG): the clamp is the convolution's epilogue.
  if (conv instanceof Conv2d && clamp && inferenceFusable(conv, next)) return [conv.convolve(x, conv.weight, conv.bias, { clamp }), 2];
  // Linear (→ ReLU/ReLU6) → Linear …: the whole run as one native call (linear-chain.ts).
  const chain = conv instanceof Linear ? runLinearChain(layers, i, x) : null;
  if (chain) return chain;
  // A pointwise Conv2d → AvgPool2d over separate windows (DenseNet's transitions): both act on each
  // pixel's channels linearly, so pooling first gives the same output (rounded in another order)
  // from a quarter of the products.
  if (conv instanceof Conv2d && pointwise(conv) && separateWindows(next) && inferenceFusable(conv, next)) return [conv.call(next.call(x)), 2];
  // Linear → ReLU/ReLU6: the activation in place on the product, no second tensor.
  if (conv instanceof Linear && clamp && inferenceFusable(conv, next)) return [activateInPlace(conv.forward(x), clamp), 2];
  // ReLU/ReLU6 → MaxPool2d where no convolution took the activation: pool, then clamp the smaller output.
  const actClamp = activationClamp(conv);
  if (actClamp && next instanceof MaxPool2d && inferenceFusable(conv, next)) return [next.poolClamped(x, actClamp), 2];
  const activation = next instanceof ReLU ? 'relu' : next instanceof ReLU6 ? 'relu6' : undefined;
  if ((conv instanceof BatchNorm2d || conv instanceof BatchNorm1d) && activation && conv.fusable() && !next.hasHooks()) {
    return [conv.callWithActivation(x, activation), 2];
  }
  return [conv.call(x), 1];
}

/**
 * act(bn(conv(x)) + identity()), act optional: a ResNet block's tail (act ReLU) or an inverted
 * residual's (none). Where it may fuse (and act, if any, is ReLU/ReLU6), one convolution with
 * BatchNorm folded in whose epilogue adds the identity and clamps as it stores the output,
 * instead of a convolution, an add and an activation pass. Elsewhere (training, recorded
 * gradients) the normalization, the add and the activation are one pass forward and one backward
 * (BatchNorm's callWithResidual) when no hook observes the normalization or the activation and
 * the BatchNorm's forward is its own (SyncBatchNorm's replacement must run); else layer by layer.
 */
export function runResidual(conv: Module, bn: Module, x: Tensor, identity: () => Tensor, act?: Module): Tensor {
  const clamp = act && activationClamp(act);
  if (foldable(conv, bn) && (!act || clamp) && x.ndim === 4) {
    const residual = identity();
    const { weight, bias } = foldedWeights(conv as Conv2d, bn);
    return (conv as Conv2d).convolve(x, weight, bias, { clamp, residual });
  }
  const activation = act === undefined ? undefined : act instanceof ReLU ? 'relu' : act instanceof ReLU6 ? 'relu6' : null;
  if (bn instanceof BatchNorm2d && bn.fusable() && activation !== null && !act?.hasHooks() && x.ndim === 4 && residualFusion) {
    const z = conv.call(x);
    const residual = identity();
    if (residual.ndim === 4 && residual.shape.every((d, k) => d === z.shape[k])) return bn.callWithResidual(z, residual, activation);
    return act ? act.call(add(bn.call(z), residual)) : add(bn.call(z), residual);
  }
  const out = add(runLayers([conv, bn], x), identity());
  return act ? act.call(out) : out;
}

let residualFusion = true;

/** Turns the training-side BatchNorm → add (→ ReLU/ReLU6) fusion on or off (process-wide): tests and benchmarks compare it with the layer-by-layer path. */
export function setResidualFusion(on: boolean): void {
  residualFusion = on;
}

/** Runs modules in order (Sequential's forward), fusing each Conv2d → BatchNorm2d (→ ReLU/ReLU6) run where it may, and BatchNorm → ReLU/ReLU6. */
export function runLayers(layers: readonly Module[], x: Tensor): Tensor {
  for (let i = 0; i < layers.length;) {
    const [y, used] = runFrom(layers, i, x);
    x = y;
    i += used;
  }
  return x;
}

/** Whether conv has folded weights cached for the current weights (tests check the fused path ran). */
export function hasFoldedWeights(conv: Conv2d): boolean {
  const cached = folded.get(conv);
  return cached !== undefined && cached.generation === weightsGeneration();
}
