// One valid call of every binding that takes a parameter object, typed by NativeAddon (so tsc
// checks each against native.ts). names.test.ts runs them through recording proxies to compare
// the fields each binding reads with the fields native.ts declares; parameter-objects.test.ts
// breaks them one argument and one field at a time.
import type { NativeAddon, ConvParams, PoolParams } from '../../src/tensor/native.js';
import { native } from '../../src/tensor/native.js';

type Calls = { [K in keyof NativeAddon]?: () => Parameters<NonNullable<NativeAddon[K]>> };

const f = (n: number) => new Float32Array(n);
// 1×2×4×4 input, 3 filters of 3×3: a 1×3×2×2 output.
const conv = (): ConvParams => ({ n: 1, cIn: 2, h: 4, w: 4, cOut: 3, kh: 3, kw: 3, strideH: 1, strideW: 1,
  padT: 0, padB: 0, padL: 0, padR: 0, dilH: 1, dilW: 1, groups: 1 });
// 2 planes of 4×4 pooled 2×2 with stride 2: 2 planes of 2×2.
const pool = (): PoolParams => ({ n: 1, c: 2, h: 4, w: 4, kh: 2, kw: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, ceilMode: false });
const planes = () => ({ planes: 2, h: 4, w: 4, outH: 2, outW: 2 });
const pad = () => ({ mode: 'zeros' as const, planes: 2, h: 3, w: 3, left: 1, right: 1, top: 1, bottom: 1 });
const loss = () => ({ input: f(6), n: 2, c: 3, target: Int32Array.from([0, 2]), weight: null, labelSmoothing: 0, ignoreIndex: -100, reduction: 1 });
const gemm = () => ({ transA: false, transB: false, m: 2, n: 3, k: 4, alpha: 1, beta: 0, lda: 4, ldb: 3, ldc: 3 });
const sgd = () => ({ lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, newBuffer: true });
const adam = () => ({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1, amsgrad: false, decoupled: false, maximize: false });
const scale = () => ({ outer: 2, c: 3, inner: 4, perSample: false });
const norm = () => ({ x: f(24), weight: f(3), bias: f(3), eps: 1e-5, y: f(24) });
const augment = () => ({ images: new Uint8Array(8), imageShape: [1, 2, 2], indices: Int32Array.of(1, 0), seeds: Uint32Array.of(3, 4),
  ops: [{ kind: 'horizontalFlip', p: 0.5 }], out: f(8), threads: 1 });
const normBack = () => ({ x: f(24), dy: f(24), weight: f(3), dx: f(24), dweight: f(3), dbias: f(3) });

// 2 images of 2×3×3, expanded to 4 channels, 3×3 depthwise with padding 1, projected to 2.
const block = () => ({ n: 2, cIn: 2, hidden: 4, cOut: 2, h: 3, w: 3, kh: 3, kw: 3, strideH: 1, strideW: 1, padT: 1, padB: 1, padL: 1,
  padR: 1, dilH: 1, dilW: 1 });
const blockLayers = () => ({ expandWeight: f(8), expandBias: f(4), expandClamp: [0, 6] as [number, number], dwWeight: f(36), dwBias: f(4),
  dwClamp: [0, 6] as [number, number], projectWeight: f(8), projectBias: f(2) });
// ConvNeXt's block tail: 2 images of 4 channels × 3 pixels, 8 hidden.
const mlp = { n: 2, c: 4, hidden: 8, pixels: 3, eps: 1e-6 };
const mlpLayers = () => ({ lnWeight: f(4), lnBias: f(4), fc1Weight: f(32), fc1Bias: f(8), fc2Weight: f(32), fc2Bias: f(4), scale: f(4) });

export const validCalls: Calls = {
  gemm: () => [gemm(), f(8), f(12), f(6), 1],
  gemmPackedFloats: () => [3, 4],
  gemmPackB: () => [{ transB: false, n: 3, k: 4, ldb: 3 }, f(12), f(native.gemmPackedFloats(3, 4))],
  gemmRef: () => [gemm(), f(8), f(12), f(6)],
  linearBackward: () => [{ m: 2, inFeatures: 3, outFeatures: 2 }, f(6), f(6), f(4), f(6), f(6), f(2), 1],
  linearChainForward: () => [{ m: 2, layers: [{ inFeatures: 3, outFeatures: 2, weight: f(6), bias: f(2), clamp: [0, Infinity],
    packed: f(native.linearChainPackedLength(2, 3)), fresh: true }] }, f(6), f(4), 1],
  smallNetForward: () => [{ convs: [{ ...conv(), weight: f(54), bias: f(3), clamp: [0, Infinity], pooled: true }],
    layers: [{ inFeatures: 3, outFeatures: 2, weight: f(6), bias: f(2), clamp: [-Infinity, Infinity], packed: f(native.linearChainPackedLength(2, 3)),
      fresh: true }] }, f(32), f(2), 1],
  conv2dForward: () => [conv(), f(32), f(54), f(3), f(12), 1],
  conv2dMaxPoolForward: () => [{ ...conv(), clamp: [0, Infinity] }, f(32), f(54), f(3), f(3), f(3), 1],
  // A pointwise layer of 2 → 3 channels on 4×4 maps reading the leading 2 of 5 channels per image.
  conv2dMappedForward: () => [{ ...conv(), n: 2, kh: 1, kw: 1, padT: 0, padB: 0, padL: 0, padR: 0, scale: f(2), shift: f(2), imageStride: 80,
    inputClamp: [0, 6], clamp: [0, Infinity] }, f(112), f(6), f(3), f(96), 1],
  conv2dBackwardInput: () => [conv(), f(12), f(54), f(32), 1],
  conv2dBackwardWeight: () => [conv(), f(32), f(12), f(54), f(3), 1],
  convAlgo: () => [conv(), 'forward', 1],
  conv2dWinogradFloats: () => [conv(), 1],
  // A layer eval takes Winograd for (32 channels, 16×16), so conv2dWinogradFloats gives u's length.
  conv2dWinogradWeights: () => {
    const p = { ...conv(), cIn: 32, cOut: 32, h: 16, w: 16, padT: 1, padB: 1, padL: 1, padR: 1 };
    return [p, f(32 * 32 * 9), f(native.conv2dWinogradFloats(p, 1)), 1];
  },
  conv2dDenseMapFloats: () => [conv(), 1],
  // 3×3 pad 1 on 1×1 maps: the dense map for every batch, so conv2dDenseMapFloats gives wd's length.
  conv2dDenseMapWeights: () => {
    const p = { ...conv(), h: 1, w: 1, padT: 1, padB: 1, padL: 1, padR: 1 };
    return [p, f(54), f(native.conv2dDenseMapFloats(p, 1)), 1];
  },
  // 2×2 maps under 3×3 pad 1: every pixel pair meets in the kernel.
  conv2dDenseMapWeightsByPixel: () => [{ ...conv(), h: 2, w: 2, padT: 1, padB: 1, padL: 1, padR: 1 }, f(54), f(2 * 4 * 3 * 4), 1],
  // DenseNet's layer on 2 images of 2×2 pixels: 3 of 5 channels → 4 on each pixel → 2 new channels (8 outputs of 16 inputs).
  denseLayerSmallForward: () => [{ n: 2, channels: 3, total: 5, pixels: 4, scale: f(3), shift: f(3), inputClamp: [0, Infinity],
    layers: [{ inFeatures: 3, outFeatures: 4, weight: f(12), bias: f(4), clamp: [0, Infinity], packed: f(native.linearChainPackedLength(4, 3)), fresh: true },
      { inFeatures: 16, outFeatures: 8, weight: f(128), bias: null, clamp: [-Infinity, Infinity], packed: f(native.linearChainPackedLength(8, 16)), fresh: true }] },
  f(40), 1],
  conv2dPackedFloats: () => [conv(), 1],
  conv2dLanesFloats: () => [conv(), 1],
  // 3×3 pad 1 on 4×4 maps, 16 output channels: the lanes loops' shape, 16 × 2 × 9 floats in blocks of 16 (AVX-512's
  // one vector, AVX2's two, NEON's blocks of 8), then the tag.
  conv2dLanesWeights: () => [{ ...conv(), cOut: 16, padT: 1, padB: 1, padL: 1, padR: 1 }, f(16 * 18), f(16 * 18 + 1), 1],
  conv2dDenseMapPackedFloats: () => [conv(), 1],
  // 3×3 pad 1 on 1×1 maps: the dense map for every batch.
  conv2dDenseMapPack: () => {
    const p = { ...conv(), h: 1, w: 1, padT: 1, padB: 1, padL: 1, padR: 1 };
    return [p, f(54), f(native.conv2dDenseMapPackedFloats(p, 1)), 1];
  },
  // A 1×1 layer that goes by image, so conv2dPackedFloats gives the packs' length.
  conv2dPackWeights: () => {
    const p = { ...conv(), n: 4, cIn: 16, cOut: 64, h: 8, w: 8, kh: 1, kw: 1 };
    return [p, f(16 * 64), f(native.conv2dPackedFloats(p, 1)), 1];
  },
  invertedResidualForward: () => [block(), blockLayers(), f(36), f(36), f(36), 1],
  invertedResidualPackedFloats: () => [block()],
  invertedResidualPack: () => [block(), blockLayers(), f(native.invertedResidualPackedFloats(block()))],
  convnextMlpForward: () => [mlp, mlpLayers(), f(24), f(24), f(24), 1],
  convnextMlpPackedFloats: () => [mlp],
  convnextMlpPack: () => [mlp, mlpLayers(), f(native.convnextMlpPackedFloats(mlp))],
  conv2dRefForward: () => [conv(), f(32), f(54), f(3), f(12)],
  conv2dRefBackwardInput: () => [conv(), f(12), f(54), f(32)],
  conv2dRefBackwardWeight: () => [conv(), f(32), f(12), f(54), f(3)],
  binary: () => [{ op: 2, aShape: [2, 3], bShape: [3], outShape: [2, 3] }, f(6), f(3), f(6), 1],
  maxPool2dForward: () => [{ ...pool(), dilH: 1, dilW: 1, clamp: [0, 6] }, f(32), f(8), f(8), 1],
  maxPool2dRefForward: () => [{ ...pool(), dilH: 1, dilW: 1 }, f(32), f(8), f(8)],
  maxPoolBackward: () => [planes(), f(8), f(8), f(32), 1],
  maxPoolReluBackward: () => [planes(), f(8), f(8), f(8), f(32), 1],
  avgPool2dForward: () => [{ ...pool(), countIncludePad: true, divisorOverride: 0 }, f(32), f(8), 1],
  avgPool2dRefForward: () => [{ ...pool(), countIncludePad: true, divisorOverride: 0 }, f(32), f(8)],
  avgPool2dBackward: () => [{ ...pool(), countIncludePad: true, divisorOverride: 0 }, f(8), f(32), 1],
  adaptiveAvgPool2dForward: () => [planes(), f(32), f(8), 1],
  adaptiveAvgPool2dBackward: () => [planes(), f(8), f(32), 1],
  adaptiveAvgPool2dRefForward: () => [planes(), f(32), f(8)],
  adaptiveMaxPool2dForward: () => [planes(), f(32), f(8), f(8), 1],
  pad2dForward: () => [pad(), 0, f(18), f(50), 1],
  pad2dBackward: () => [pad(), f(50), f(18), 1],
  batchNormForward: () => [{ x: f(12), shape: [2, 3, 2], weight: f(3), bias: f(3), runningMean: f(3), runningVar: f(3),
    training: true, momentum: 0.1, eps: 1e-5, y: f(12), saveMean: f(3), saveInvstd: f(3) }, 1],
  batchNormBackward: () => [{ x: f(12), dy: f(12), shape: [2, 3, 2], weight: f(3), saveMean: f(3), saveInvstd: f(3),
    training: true, dx: f(12), dweight: f(3), dbias: f(3) }, 1],
  softmaxForward: () => [{ shape: [2, 3], dim: 1, log: false }, f(6), f(6), 1],
  softmaxBackward: () => [{ shape: [2, 3], dim: 1, log: true }, f(6), f(6), f(6), 1],
  crossEntropyForward: () => [loss(), f(1), f(2), 1],
  crossEntropyBackward: () => [loss(), f(2), f(1), f(6), 1],
  nllLossForward: () => [loss(), f(1)],
  nllLossBackward: () => [loss(), f(1), f(6)],
  sgdStep: () => [f(4), f(4), f(4), sgd(), 1],
  adamStep: () => [f(4), f(4), { expAvg: f(4), expAvgSq: f(4), maxExpAvgSq: null }, adam(), 1],
  layerNormForward: () => [{ ...norm(), outer: 2, d: 3, inner: 4, mean: f(8), rstd: f(8) }, 1],
  layerNormBackward: () => [{ ...normBack(), outer: 2, d: 3, inner: 4, mean: f(8), rstd: f(8) }, 1],
  groupNormForward: () => [{ ...norm(), n: 2, c: 3, s: 4, groups: 3, mean: f(6), rstd: f(6) }, 1],
  groupNormBackward: () => [{ ...normBack(), n: 2, c: 3, s: 4, groups: 3, mean: f(6), rstd: f(6) }, 1],
  channelScaleForward: () => [{ ...scale(), x: f(24), s: f(3), y: f(24) }, 1],
  channelScaleBackward: () => [{ ...scale(), x: f(24), s: f(3), dy: f(24), dx: f(24), ds: f(3) }, 1],
  augmentBatch: () => [augment()],
  augmentBatchAsync: () => [augment()],
  autoAugmentImage: () => [{ image: new Uint8Array(4), imageShape: [1, 2, 2], seed: 5,
    op: { kind: 'autoAugment', mode: 'trivial', space: [{ op: 'Invert', signed: false, magnitudes: [] }], interpolation: 'nearest', fill: null } }],
  decodeJpegCropsAsync: () => [{ files: [new Uint8Array(4)], boxes: Float64Array.of(0, 0, 2, 2), clipToImage: false, slots: Int32Array.of(0),
    flips: Uint8Array.of(0), count: 1, height: 2, width: 2, floats: false, mean: [0, 0, 0], std: [1, 1, 1], threads: 1 }],
  copyRows: () => [{ srcOffset: 0, srcStride: 3, dstOffset: 1, dstStride: 5, block: 3, count: 2 }, f(6), f(9), 1],
  affineAvgPool2x2: () => [{ count: 2, channels: 3, h: 4, w: 5, clamp: [0, Infinity] }, f(120), f(3), f(3), f(24), 1],
  copyRowsAffine: () => [{ srcOffset: 0, srcStride: 4, dstOffset: 2, dstStride: 6, channels: 2, inner: 2, count: 2, clamp: [0, 6] }, f(8), f(12), f(2), f(2), 1],
};
