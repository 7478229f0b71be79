// Loads the C++ addon once and types its bindings. Every binding checks its arguments and
// throws TypeError/RangeError with a message; nothing here repeats those checks.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chooseOpenmpWait } from './openmp-wait.js';

export interface ConvParams {
  n: number; cIn: number; h: number; w: number;
  cOut: number; kh: number; kw: number;
  strideH: number; strideW: number;
  padT: number; padB: number; padL: number; padR: number;
  dilH: number; dilW: number; groups: number;
}

/** A forward convolution's settings with eval fusion's epilogue, applied as the output is stored:
 * residual (y's size) added after the bias, then clamp [lo, hi] (ReLU: [0, Infinity], ReLU6: [0, 6]). */
export interface ConvForwardParams extends ConvParams {
  clamp?: [number, number];
  residual?: Float32Array | null;
  /** The weights transformed by conv2dWinogradWeights: where given, the shape choice may take Winograd. */
  winograd?: Float32Array;
  /** The weights made dense by conv2dDenseMapWeights: a forward call that takes the dense map uses them as they are. */
  denseMap?: Float32Array;
  /** The weights packed by conv2dPackWeights: a forward call that goes by image or the grid multiplies them as they are. */
  packed?: Float32Array;
  /** The weights' dense map packed by conv2dDenseMapPack (eval's cache): a forward call that takes the dense map multiplies it as it is. */
  denseMapPacked?: Float32Array;
  /** The weights reordered by conv2dLanesWeights (eval's cache): a forward call that takes the channels-in-lanes loops uses them as they are. */
  lanes?: Float32Array;
}

/** MobileNetV2's inverted residual block in eval mode: the block's sizes and its depthwise geometry. */
export interface InvertedResidualParams {
  n: number; cIn: number; hidden: number; cOut: number;
  /** Channels of the squeeze-and-excitation's squeeze (none where absent). */
  squeeze?: number;
  h: number; w: number;
  kh: number; kw: number; strideH: number; strideW: number;
  padT: number; padB: number; padL: number; padR: number; dilH: number; dilW: number;
}

/** A gated activation after a layer's clamp. */
export type BlockGate = 'silu' | 'hardswish' | 'hardsigmoid' | 'sigmoid';

/**
 * The block's layers, BatchNorm folded in: expand 1×1 (none: hidden = cIn), depthwise, the
 * squeeze-and-excitation's two 1×1 layers (with params.squeeze), project 1×1; each clamp, then
 * gate, applied after its layer's bias (seGate, after fc2, defaults to 'sigmoid').
 */
export interface InvertedResidualLayers {
  expandWeight: Float32Array | null; expandBias: Float32Array | null; expandClamp?: [number, number]; expandGate?: BlockGate;
  dwWeight: Float32Array; dwBias: Float32Array | null; dwClamp?: [number, number]; dwGate?: BlockGate;
  seFc1Weight?: Float32Array; seFc1Bias?: Float32Array | null; seClamp?: [number, number]; seActGate?: BlockGate;
  seFc2Weight?: Float32Array; seFc2Bias?: Float32Array | null; seGate?: BlockGate;
  projectWeight: Float32Array; projectBias: Float32Array | null;
  /** The weights packed by invertedResidualPack (eval's cache); another ISA's are ignored. */
  packed?: Float32Array;
}

/** ConvNeXt's block tail: n images of c channels × pixels, W1's hidden outputs, LayerNorm's eps. */
export interface ConvnextMlpParams {
  n: number; c: number; hidden: number; pixels: number; eps: number;
}

/** Its LayerNorm (affine optional), two Linear layers (hidden × c, c × hidden) and layer scale γ (optional). */
export interface ConvnextMlpLayers {
  lnWeight: Float32Array | null; lnBias: Float32Array | null;
  fc1Weight: Float32Array; fc1Bias: Float32Array | null;
  fc2Weight: Float32Array; fc2Bias: Float32Array | null;
  scale: Float32Array | null;
  /** The weights folded and packed by convnextMlpPack (eval's cache); another ISA's are ignored. */
  packed?: Float32Array;
}

/** C (m×n) = alpha·op(A)·op(B) + beta·C; op(A) is m×k, op(B) k×n; ld* are row strides of the stored matrices. */
export interface GemmParams {
  transA: boolean; transB: boolean; m: number; n: number; k: number;
  alpha: number; beta: number; lda: number; ldb: number; ldc: number;
  /** op(B) packed by gemmPackB (eval's cache of a Linear layer's weights): multiplied as it is where packed for the active ISA. */
  packedB?: Float32Array;
}

/** One layer of linearChainForward: y = clamp(x·weightᵀ + bias) (clamp [-Infinity, Infinity]: none). */
export interface LinearChainLayer {
  inFeatures: number; outFeatures: number;
  weight: Float32Array; bias: Float32Array | null;
  clamp: [number, number];
  /** linearChainPackedLength(outFeatures, inFeatures) floats the addon packs weight into, kept between calls. */
  packed: Float32Array;
  /** Whether weight changed since packed was last filled (the addon then packs it again). */
  fresh: boolean;
}

export interface LinearChainParams {
  m: number;
  layers: LinearChainLayer[];
}

export interface DenseLayerSmallParams {
  n: number; channels: number; total: number; pixels: number;
  scale: Float32Array; shift: Float32Array; inputClamp: [number, number];
  layers: [LinearChainLayer, LinearChainLayer];
}

/** One convolution of smallNetForward: its parameters (n the batch), weights, clamp, and whether a 2×2 stride-2 max pool follows. */
export interface SmallNetConv extends ConvParams {
  weight: Float32Array; bias: Float32Array | null;
  clamp: [number, number];
  pooled: boolean;
}

export interface SmallNetParams {
  convs: SmallNetConv[];
  layers: LinearChainLayer[];
}

export interface LinearBackwardParams {
  m: number; inFeatures: number; outFeatures: number;
}

/** Convolution paths (native/conv/conv.h); 'auto' chooses by shape. */
export type ConvAlgoName = 'auto' | 'depthwise' | 'direct' | 'grid' | 'by-image' | 'batched' | 'winograd' | 'dense-map' | 'lanes';
export type ConvPass = 'forward' | 'backwardInput' | 'backwardWeight';

/** A 2-D pooling window over N·C planes of H×W; padding must be <= half the kernel. */
export interface PoolParams {
  n: number; c: number; h: number; w: number;
  kh: number; kw: number;
  strideH: number; strideW: number;
  padH: number; padW: number;
  ceilMode: boolean;
}

export interface MaxPoolParams extends PoolParams {
  dilH: number; dilW: number;
  /** [lo, hi]: eval fusion's ReLU (0, Infinity) or ReLU6 (0, 6), applied to each output as ReLU applies it (NaN becomes lo). */
  clamp?: readonly [number, number];
}

export interface AvgPoolParams extends PoolParams {
  countIncludePad: boolean;
  /** 0: divide by the window size PyTorch's rules give. */
  divisorOverride: number;
}

/** N·C planes of H×W pooled to outH×outW (adaptive pooling, and max-pool backward through indices). */
export interface PlaneParams {
  planes: number; h: number; w: number; outH: number; outW: number;
}

/** A broadcasting binary op; op: 0 add, 1 sub, 2 mul, 3 div; shapes broadcast as in PyTorch. */
export interface BinaryParams {
  op: number; aShape: readonly number[]; bShape: readonly number[]; outShape: readonly number[];
}

/** A (log-)softmax over axis dim (non-negative) of shape. */
export interface SoftmaxParams {
  shape: readonly number[]; dim: number; log: boolean;
}

/** count rows of block floats from src[srcOffset + r·srcStride] to dst[dstOffset + r·dstStride]. */
export interface CopyRowsParams {
  srcOffset: number; srcStride: number; dstOffset: number; dstStride: number; block: number; count: number;
}

/** copyRows whose rows are `channels` planes of `inner` floats, each value mapped to clamp(v·scale[c] + shift[c]). */
export interface CopyRowsAffineParams {
  srcOffset: number; srcStride: number; dstOffset: number; dstStride: number; channels: number; inner: number; count: number;
  clamp?: [number, number];
}

/** x (outer, c, inner) scaled per channel; s holds outer·c factors when perSample, else c. */
export interface ChannelScaleExtents {
  outer: number; c: number; inner: number; perSample: boolean;
}

export interface ChannelScaleForwardCall extends ChannelScaleExtents {
  x: Float32Array; s: Float32Array; y: Float32Array;
}

export interface ChannelScaleBackwardCall extends ChannelScaleExtents {
  x: Float32Array; s: Float32Array; dy: Float32Array; dx: Float32Array | null; ds: Float32Array | null;
}

/** x (outer, d, inner) normalized over d; mean/rstd hold outer·inner values. */
export interface LayerNormExtents {
  outer: number; d: number; inner: number;
}

/** x (n, c, s) normalized per (sample, group); mean/rstd hold n·groups values. */
export interface GroupNormExtents {
  n: number; c: number; s: number; groups: number;
}

export interface NormForwardBuffers {
  x: Float32Array; weight: Float32Array | null; bias: Float32Array | null; eps: number;
  y: Float32Array; mean: Float32Array; rstd: Float32Array;
}

export interface NormBackwardBuffers {
  x: Float32Array; dy: Float32Array; weight: Float32Array | null; mean: Float32Array; rstd: Float32Array;
  dx: Float32Array | null; dweight: Float32Array | null; dbias: Float32Array | null;
}

export interface LayerNormForwardCall extends LayerNormExtents, NormForwardBuffers {}
export interface LayerNormBackwardCall extends LayerNormExtents, NormBackwardBuffers {}
export interface GroupNormForwardCall extends GroupNormExtents, NormForwardBuffers {}
export interface GroupNormBackwardCall extends GroupNormExtents, NormBackwardBuffers {}

/** Adam's per-parameter state; maxExpAvgSq is non-null exactly when amsgrad. */
export interface AdamState {
  expAvg: Float32Array; expAvgSq: Float32Array; maxExpAvgSq: Float32Array | null;
}

export type PadMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

/** Padding of `planes` H×W planes by left/right columns and top/bottom rows. */
export interface PadParams {
  mode: PadMode; planes: number; h: number; w: number;
  left: number; right: number; top: number; bottom: number;
}

export interface CpuInfo {
  model: string;
  features: string[];
  supported: string[];
  best: string;
  active: string;
}

export interface SgdStepOptions {
  lr: number; momentum: number; dampening: number; weightDecay: number;
  nesterov: boolean; maximize: boolean; newBuffer: boolean;
}

export interface AdamStepOptions {
  lr: number; beta1: number; beta2: number; eps: number; weightDecay: number;
  step: number; amsgrad: boolean;
  /** AdamW: decay the parameter itself instead of adding weightDecay·param to the gradient. */
  decoupled: boolean;
  maximize: boolean;
}

/** What the MPI bindings know of the job (rank and size once initialised). */
export interface MpiWorldInfo {
  available: boolean;
  version?: string;
  initialized: boolean;
  rank?: number;
  size?: number;
  localRank?: number;
  localSize?: number;
  threadLevel?: string;
}

/** An activation fused into batch normalization's output. */
export type NormActivation = 'relu' | 'relu6';

/** One batchNormForward call; running stats are null together, and required when !training. */
export interface BatchNormForwardCall {
  x: Float32Array; shape: readonly number[];
  weight: Float32Array | null; bias: Float32Array | null;
  runningMean: Float32Array | null; runningVar: Float32Array | null;
  training: boolean; momentum: number; eps: number;
  y: Float32Array; saveMean: Float32Array; saveInvstd: Float32Array;
  /** y = relu or relu6 of the normalized value: BatchNorm → activation in one pass (default none). */
  activation?: NormActivation;
  /** Added to the normalized value before the activation (x's size): BatchNorm → add → activation in one pass. */
  residual?: Float32Array | null;
  /** Receives each channel's y = act(x·a + shift) coefficients (2C floats: a, then shift), which a fused backward needs. */
  coefficients?: Float32Array | null;
}

export interface BatchNormBackwardCall {
  x: Float32Array; dy: Float32Array; shape: readonly number[];
  weight: Float32Array | null; saveMean: Float32Array; saveInvstd: Float32Array; training: boolean;
  dx: Float32Array | null; dweight: Float32Array | null; dbias: Float32Array | null;
  /** The fused forward's activation: dy counts only where it passed the gradient (its mask recomputed, y never read back). */
  activation?: NormActivation;
  /** The fused forward's coefficients (required with an activation): the mask is recomputed from x with them. */
  coefficients?: Float32Array | null;
  /** The fused forward's residual (for the mask), and where the gradient reaching it goes (with an activation only; without one it is dy). */
  residual?: Float32Array | null;
  dresidual?: Float32Array | null;
}

/** The (N, C) input, targets and settings shared by the cross-entropy and NLL calls. */
/** One batch of the native augmenter (src/data/augment.ts). */
export interface AugmentBatchParams {
  images: Uint8Array;
  imageShape: readonly number[];
  indices: Int32Array;
  seeds: Uint32Array;
  ops: readonly object[];
  out: Float32Array;
  threads: number;
}

export interface LossParams {
  input: Float32Array; n: number; c: number; target: Int32Array;
  weight: Float32Array | null;
  /** Cross entropy only. */
  labelSmoothing?: number;
  ignoreIndex: number;
  /** 0 none, 1 mean, 2 sum. */
  reduction: number;
}

export interface NativeAddon {
  cpuInfo(): CpuInfo;
  setIsa(name: string): void;
  /** execve: replaces this process with `path` run with argv and env ('NAME=value'); returns only by throwing. */
  execProcess(path: string, argv: string[], env: string[]): void;
  /** C = alpha·op(A)·op(B) + beta·C, row-major with leading dimensions. */
  gemm(p: GemmParams, A: Float32Array, B: Float32Array, C: Float32Array, threads: number): void;
  /** Floats gemmPackB writes for op(B) of n columns and depth k, on the active ISA. */
  gemmPackedFloats(n: number, k: number): number;
  /** out = op(B) packed whole for gemm's packedB, on the active ISA. */
  gemmPackB(p: { transB: boolean; n: number; k: number; ldb: number }, B: Float32Array, out: Float32Array): void;
  gemmRef(p: GemmParams, A: Float32Array, B: Float32Array, C: Float32Array): void;
  /** GFLOP/s of the ISA's FMA loop on `threads` threads at once (the peak `cnn bench ops` divides by). */
  fmaPeak(isa: string, threads: number): number;
  /** y (m × last outFeatures) = the layers in turn on x (m × first inFeatures), rows shared out over the threads (native/gemm/small_chain.h). */
  linearChainForward(p: LinearChainParams, x: Float32Array, y: Float32Array, threads: number): void;
  /** A small network's eval pass in one call (native/conv/small_net.h): the convolutions (each clamped, maybe pooled), the last one's
   * output flattened into the Linear layers; each thread carries a block of images through all of them. False, y untouched,
   * where a convolution would not take the direct path (the caller then runs the layers one by one). p's fields are read at its
   * first call and kept on it: later calls with the same object read only each layer's `fresh` (weights changed in place are
   * still used, but a field replaced after the first call is not seen: build a new object). */
  smallNetForward(p: SmallNetParams, x: Float32Array, y: Float32Array, threads: number): boolean;
  /** DenseNet's eval layer on maps of `pixels` pixels (native/conv/dense_layer.h): channels [channels, channels + G) of each of the
   * n images in features (n × total × pixels) from its first `channels`, mapped by scale, shift and inputClamp, through
   * layers[0] (channels → mid on each pixel) and layers[1] (pixels·mid, pixel-major → G·pixels, NCHW's order, on each image). */
  denseLayerSmallForward(p: DenseLayerSmallParams, features: Float32Array, threads: number): void;
  /** The length of a layer's `packed` buffer for linearChainForward. */
  linearChainPackedLength(outFeatures: number, inFeatures: number): number;
  /** A Linear layer's gradients from dy (m × outFeatures): dx = dy·w, dw = dyᵀ·x, db = dy's column sums, each null where not
   * wanted, in one parallel region (native/gemm/small_linear_grad.h). */
  linearBackward(p: LinearBackwardParams, x: Float32Array, w: Float32Array, dy: Float32Array, dx: Float32Array | null,
    dw: Float32Array | null, db: Float32Array | null, threads: number): void;
  conv2dForward(p: ConvForwardParams, x: Float32Array, w: Float32Array, b: Float32Array | null,
    y: Float32Array, threads: number): void;
  /** The forward pass clamped to p.clamp, then a 2×2 stride-2 max pool, into y (N × Cout × ⌊OH/2⌋ × ⌊OW/2⌋)
   * and, unless null, each maximum's flat OH × OW position into indices, where the direct path takes the
   * convolution, or, without indices, Winograd given p.winograd (conv2dWinogradWeights); false (y untouched) elsewhere. */
  conv2dMaxPoolForward(p: ConvParams & { clamp?: [number, number]; winograd?: Float32Array }, x: Float32Array, w: Float32Array,
    b: Float32Array | null, y: Float32Array, indices: Float32Array | null, threads: number): boolean;
  /** A pointwise forward pass of one group reading x through clamp(x·scale[c] + shift[c], inputClamp), from images imageStride floats apart; false, y untouched, where the by-image path does not take it. */
  conv2dMappedForward(p: ConvParams & { scale: Float32Array; shift: Float32Array; imageStride: number; inputClamp?: [number, number]; clamp?: [number, number]; packed?: Float32Array },
    x: Float32Array, w: Float32Array, b: Float32Array | null, y: Float32Array, threads: number): boolean;
  /** p.denseMap: the weights made dense by conv2dDenseMapWeights (the training forward's), used as they are where the call takes the dense map. */
  conv2dBackwardInput(p: ConvParams & { denseMap?: Float32Array }, dy: Float32Array, w: Float32Array, dx: Float32Array,
    threads: number): void;
  conv2dBackwardWeight(p: ConvParams, x: Float32Array, dy: Float32Array, dw: Float32Array,
    db: Float32Array | null, threads: number): void;
  /** y = project(depthwise(expand(x))) (+ residual), each layer's output kept in cache per run of images or band of rows. */
  invertedResidualForward(p: InvertedResidualParams, layers: InvertedResidualLayers, x: Float32Array,
    residual: Float32Array | null, y: Float32Array, threads: number): void;
  /** y = x + γ ⊙ (fc2(GELU(fc1(LayerNorm over channels of d))) per pixel; d, x, y n × c × pixels (NCHW). */
  convnextMlpForward(p: ConvnextMlpParams, layers: ConvnextMlpLayers, d: Float32Array, x: Float32Array, y: Float32Array, threads: number): void;
  /** Floats convnextMlpPack writes for p on the active ISA. */
  convnextMlpPackedFloats(p: ConvnextMlpParams): number;
  /** packed = the block's weights with LayerNorm's affine and γ folded in, as its items multiply them. */
  convnextMlpPack(p: ConvnextMlpParams, layers: ConvnextMlpLayers, packed: Float32Array): void;
  /** Floats invertedResidualPack writes for p on the active ISA. */
  invertedResidualPackedFloats(p: InvertedResidualParams): number;
  /** packed = the block's weights as its items multiply them, on the active ISA. */
  invertedResidualPack(p: InvertedResidualParams, layers: InvertedResidualLayers, packed: Float32Array): void;
  /** Forces one convolution path for every shape it suits (the rest take 'batched'); 'auto' picks by shape. */
  setConvAlgo(algo: ConvAlgoName): void;
  /** Whether Auto may take Winograd where the call transforms the weights (training's passes; CNN_WINOGRAD_TRAINING, on by default). */
  setWinogradTraining(on: boolean): void;
  /** The path a convolution call with these arguments takes. */
  convAlgo(p: ConvParams, pass: ConvPass, threads: number): ConvAlgoName;
  /** Floats of the Winograd-transformed weights where a forward pass given them takes Winograd, else 0. */
  conv2dWinogradFloats(p: ConvParams, threads: number): number;
  /** u (36 × cOut × cIn) = w transformed for Winograd F(4×4, 3×3); p must be an ungrouped 3×3 stride-1 undilated convolution. */
  conv2dWinogradWeights(p: ConvParams, w: Float32Array, u: Float32Array, threads: number): void;
  /** Floats of the dense-map weights where a forward pass takes the dense map, else 0. */
  conv2dDenseMapFloats(p: ConvParams, threads: number): number;
  /** wd (cIn·h·w × cOut·outH·outW) = w as a dense map of whole images; p must be ungrouped with h·w and outH·outW <= kh·kw. */
  conv2dDenseMapWeights(p: ConvParams, w: Float32Array, wd: Float32Array, threads: number): void;
  /** The same dense map with its columns by input pixel (pixel·cIn + channel; ungrouped only), as denseLayerSmallForward multiplies it. */
  conv2dDenseMapWeightsByPixel(p: ConvParams, w: Float32Array, wd: Float32Array, threads: number): void;
  /** Floats of w's dense map packed for the GEMM where a forward call of p on `threads` threads takes the dense map, else 0 (eval caches only those). */
  conv2dDenseMapPackedFloats(p: ConvParams, threads: number): number;
  /** packed = w's dense map as the forward GEMM multiplies it, on the active ISA. */
  conv2dDenseMapPack(p: ConvParams, w: Float32Array, packed: Float32Array, threads: number): void;
  /** Floats of w packed for the GEMM where a forward call of p on `threads` threads goes by image, else 0 (eval caches only those). */
  conv2dPackedFloats(p: ConvParams, threads: number): number;
  /** packed = w as a by-image forward call's GEMM takes it, on the active ISA (tagged: another ISA's call packs its own). */
  conv2dPackWeights(p: ConvParams, w: Float32Array, packed: Float32Array, threads: number): void;
  /** Floats of w reordered for the channels-in-lanes loops where a forward call of p on `threads` threads takes them, else 0 (eval caches only those). */
  conv2dLanesFloats(p: ConvParams, threads: number): number;
  /** out = w reordered for the channels-in-lanes loops on the active ISA (p: ungrouped 3×3, stride 1, padding 1, rows of at most 8 pixels). */
  conv2dLanesWeights(p: ConvParams, w: Float32Array, out: Float32Array, threads: number): void;
  conv2dRefForward(p: ConvParams, x: Float32Array, w: Float32Array, b: Float32Array | null,
    y: Float32Array): void;
  conv2dRefBackwardInput(p: ConvParams, dy: Float32Array, w: Float32Array, dx: Float32Array): void;
  conv2dRefBackwardWeight(p: ConvParams, x: Float32Array, dy: Float32Array, dw: Float32Array,
    db: Float32Array | null): void;
  binary(p: BinaryParams, a: Float32Array, b: Float32Array, out: Float32Array, threads: number): void;
  sumToShape(x: Float32Array, shape: readonly number[], out: Float32Array, target: readonly number[]): void;
  reluForward(x: Float32Array, y: Float32Array, threads: number): void;
  reluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, threads: number): void;
  hardtanhForward(x: Float32Array, y: Float32Array, lo: number, hi: number, threads: number): void;
  hardtanhBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, lo: number, hi: number, threads: number): void;
  axpy(alpha: number, x: Float32Array, y: Float32Array, threads: number): void;
  scale(alpha: number, x: Float32Array, y: Float32Array, threads: number): void;
  sum(x: Float32Array): number;
  /** Σ x², accumulated in double. */
  sumSquares(x: Float32Array): number;
  /** Index of the first array holding NaN or ±Inf, or -1; one parallel pass over all of them. */
  firstNonFinite(arrays: readonly Float32Array[], threads: number): number;
  /** indices: flat positions in each input plane (ih·W + iw), -1 for a window of padding only; null when no gradient needs them. */
  maxPool2dForward(p: MaxPoolParams, x: Float32Array, y: Float32Array, indices: Float32Array | null,
    threads: number): void;
  /** The direct loop the vector paths are checked against (cnn doctor); p.clamp is not read. */
  maxPool2dRefForward(p: MaxPoolParams, x: Float32Array, y: Float32Array, indices: Float32Array): void;
  /** dx = 0, then dx[plane][indices] += dy (max_pool2d and adaptive_max_pool2d). */
  maxPoolBackward(p: PlaneParams, dy: Float32Array, indices: Float32Array, dx: Float32Array, threads: number): void;
  /** maxPoolBackward with ReLU's backward mask before the pool: outputs whose pooled value y is not above 0 pass nothing. */
  maxPoolReluBackward(p: PlaneParams, y: Float32Array, dy: Float32Array, indices: Float32Array, dx: Float32Array, threads: number): void;
  avgPool2dForward(p: AvgPoolParams, x: Float32Array, y: Float32Array, threads: number): void;
  avgPool2dRefForward(p: AvgPoolParams, x: Float32Array, y: Float32Array): void;
  avgPool2dBackward(p: AvgPoolParams, dy: Float32Array, dx: Float32Array, threads: number): void;
  adaptiveAvgPool2dForward(p: PlaneParams, x: Float32Array, y: Float32Array, threads: number): void;
  adaptiveAvgPool2dBackward(p: PlaneParams, dy: Float32Array, dx: Float32Array, threads: number): void;
  adaptiveAvgPool2dRefForward(p: PlaneParams, x: Float32Array, y: Float32Array): void;
  adaptiveMaxPool2dForward(p: PlaneParams, x: Float32Array, y: Float32Array, indices: Float32Array, threads: number): void;
  pad2dForward(p: PadParams, value: number, x: Float32Array, y: Float32Array, threads: number): void;
  /** dx = 0, then each output's gradient is added to the input it copies. */
  pad2dBackward(p: PadParams, dy: Float32Array, dx: Float32Array, threads: number): void;

  // ---- normalization (native/norm) ----
  /** shape (N, C, ...); training uses batch stats and updates the running stats in place. */
  batchNormForward(call: BatchNormForwardCall, threads: number): void;
  batchNormBackward(call: BatchNormBackwardCall, threads: number): void;

  // ---- activations (native/activation) ----
  leakyReluForward(x: Float32Array, y: Float32Array, slope: number, threads: number): void;
  leakyReluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, slope: number, threads: number): void;
  sigmoidForward(x: Float32Array, y: Float32Array, threads: number): void;
  /** From the forward output y. */
  sigmoidBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, threads: number): void;
  tanhForward(x: Float32Array, y: Float32Array, threads: number): void;
  tanhBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, threads: number): void;
  softmaxForward(p: SoftmaxParams, x: Float32Array, y: Float32Array, threads: number): void;
  /** From the forward output y. */
  softmaxBackward(p: SoftmaxParams, y: Float32Array, dy: Float32Array, dx: Float32Array, threads: number): void;

  // ---- dropout (native/dropout) ----
  /** mask[i] = 1/(1-p) with probability 1-p, else 0, from a counter-based stream `seed`. */
  dropoutMask(seed: number, p: number, mask: Float32Array, threads: number): void;
  /** y[i] = x[i]·mask[floor(i / group)]. */
  dropoutApply(x: Float32Array, mask: Float32Array, group: number, y: Float32Array, threads: number): void;

  // ---- losses (native/loss); reduction: 0 none, 1 mean, 2 sum ----
  crossEntropyForward(p: LossParams, out: Float32Array, lse: Float32Array, threads: number): void;
  crossEntropyBackward(p: LossParams, lse: Float32Array, gradOut: Float32Array, dinput: Float32Array,
    threads: number): void;
  /** p.input holds log-probabilities; labelSmoothing is not read. */
  nllLossForward(p: LossParams, out: Float32Array): void;
  nllLossBackward(p: LossParams, gradOut: Float32Array, dinput: Float32Array): void;
  /** Rows whose target is among the k largest logits. */
  accuracyTopK(logits: Float32Array, n: number, c: number, target: Int32Array, k: number, threads: number): number;
  // ---- optimizers (native/optim): one fused update per parameter tensor, in place ----
  /** momentumBuffer is null exactly when momentum is 0; newBuffer makes the buffer d_p itself (first step). */
  sgdStep(param: Float32Array, grad: Float32Array, momentumBuffer: Float32Array | null,
    options: SgdStepOptions, threads: number): void;
  /** step counts this update (1 on the first). */
  adamStep(param: Float32Array, grad: Float32Array, state: AdamState, options: AdamStepOptions, threads: number): void;
  /**
   * Augments images[indices[k]] (uint8 CHW of imageShape) with seeds[k] through ops (the plain
   * descriptions of src/data/transforms.ts) into out, float32 N × outShape.
   */
  augmentBatch(p: AugmentBatchParams): void;
  /** The same on the libuv pool; argument errors throw synchronously. Do not touch the arrays until it settles. */
  augmentBatchAsync(p: AugmentBatchParams): Promise<void>;
  /**
   * One autoAugment op (src/data/auto-augment.ts) on one uint8 CHW image, in place, with its own
   * generator seeded `seed`; returns the [op name, magnitude] pairs it applied.
   */
  autoAugmentImage(params: { image: Uint8Array; imageShape: readonly number[]; op: object; seed: number }): [string, number][];
  /** [channels, height, width] that ops make of imageShape; RangeError when they cannot apply. */
  augmentOutputShape(imageShape: readonly number[], ops: readonly object[]): [number, number, number];

  // ---- JPEG crops (native/image): exported by every build; without libjpeg-turbo jpegDecoder() is null ----
  /**
   * Decodes files[k] (a JPEG's bytes) cropped to boxes[4k..4k+3] (top, left, height, width in the
   * original's pixels), resized to height × width and mirrored where flips[k], CHW RGB, as image
   * slots[k] of a batch of `count` it allocates: uint8 levels, or with `floats` (v / 255 − mean) / std.
   * On the libuv pool, `threads` OpenMP threads over the images. status[k]: 0 decoded, 1 not for this
   * decoder (not a JPEG, CMYK, or no decoder in this build), 2 failed with messages[k]. Slots no
   * file filled are zeros.
   */
  decodeJpegCropsAsync(p: JpegCropsParams): Promise<JpegCropsResult>;
  /** 'libjpeg-turbo 2.1.5', or null when the addon was built without a JPEG decoder. */
  jpegDecoder(): string | null;

  // ---- MPI (native/dist): only mpiInfo when the addon was built without MPI ----
  mpiInfo(): MpiWorldInfo;
  mpiInit?(): MpiWorldInfo;
  mpiAllreduceSum?(buf: Float32Array | Float64Array): void;
  mpiIallreduceSum?(buf: Float32Array): number;
  mpiTest?(handle: number): boolean;
  mpiWait?(handle: number): void;
  mpiBroadcast?(buf: Float32Array | Float64Array, root: number): void;
  mpiBarrier?(): void;
  mpiAbort?(code: number): never;
  mpiFinalize?(): void;

  // ---- x·gate(x) activations (native/activation/gated); kind: 0 SiLU, 1 GELU, 2 GELU tanh, 3 Hardswish, 4 Hardsigmoid ----
  gatedForward(kind: number, x: Float32Array, y: Float32Array, threads: number): void;
  /** From the input x. */
  gatedBackward(kind: number, x: Float32Array, dy: Float32Array, dx: Float32Array, threads: number): void;

  // ---- layer/group normalization (native/norm/layer_norm) ----
  layerNormForward(call: LayerNormForwardCall, threads: number): void;
  layerNormBackward(call: LayerNormBackwardCall, threads: number): void;
  groupNormForward(call: GroupNormForwardCall, threads: number): void;
  groupNormBackward(call: GroupNormBackwardCall, threads: number): void;

  // ---- channel ops (native/eltwise/channels) ----
  channelScaleForward(call: ChannelScaleForwardCall, threads: number): void;
  channelScaleBackward(call: ChannelScaleBackwardCall, threads: number): void;
  copyRows(p: CopyRowsParams, src: Float32Array, dst: Float32Array, threads: number): void;
  copyRowsAffine(p: CopyRowsAffineParams, src: Float32Array, dst: Float32Array, scale: Float32Array, shift: Float32Array, threads: number): void;
  /** y (count × channels × ⌊h/2⌋ × ⌊w/2⌋) = the 2×2 stride-2 average of clamp(x·scale[c] + shift[c], clamp) (eval's BatchNorm → ReLU → AvgPool2d(2)). */
  affineAvgPool2x2(p: { count: number; channels: number; h: number; w: number; clamp?: [number, number] }, x: Float32Array, scale: Float32Array,
    shift: Float32Array, y: Float32Array, threads: number): void;
  /** y[b, j, i] = x[b, i, j] for x (batch, rows, cols). */
  transposeBatched(x: Float32Array, batch: number, rows: number, cols: number, y: Float32Array, threads: number): void;

  /** --profile's native timers (native/cpu/profile.h): on times the calling thread from now on. */
  profileEnable(on: boolean): void;
  /** Seconds in the GEMM micro-kernels, in packing GEMM operands and in im2col/col2im since the last reset. */
  profileRead(reset: boolean): NativeProfileTotals;
}

/**
 * clipToImage: the resampling filter stops at the image's edges (Resize + CenterCrop: the box is the
 * centre of the resized image mapped back, fractional) instead of the box's (crop, then resize).
 */
export interface JpegCropsParams {
  files: Uint8Array[];
  boxes: Float64Array;
  clipToImage: boolean;
  slots: Int32Array;
  flips: Uint8Array;
  count: number;
  height: number;
  width: number;
  floats: boolean;
  /** Per channel; uint8 output does not use them. */
  mean: readonly number[];
  std: readonly number[];
  threads: number;
}

export interface JpegCropsResult {
  /** count × 3 × height × width: a Float32Array with floats, else a Uint8Array. */
  pixels: Uint8Array | Float32Array;
  status: number[];
  messages: string[];
}

export interface NativeProfileTotals {
  gemmKernel: number; packing: number; im2col: number;
}

const require = createRequire(import.meta.url);

/** The folder holding cnn.node and kernel_tests: build/Release, or CNN_NATIVE_BUILD (`npm run test:asan`). */
export function nativeBuildDir(): string {
  return resolve(process.env.CNN_NATIVE_BUILD || fileURLToPath(new URL('../../../build/Release', import.meta.url)));
}

function load(): NativeAddon {
  const file = join(nativeBuildDir(), 'cnn.node');
  // OpenMP threads that finish their share of a region sleep instead of spinning on (libgomp reads
  // this when the addon loads it). On a shared CPU a spinning thread holds the core that the
  // descheduled thread the region waits for needs: simplecnn training at 2 threads ran at half
  // the speed of 1 thread under load, and 1.5-2.8x faster passive (issue 13). On a free CPU they
  // spin briefly first (openmp-wait.ts). A user's setting wins.
  chooseOpenmpWait(process.env);
  try {
    return require(file) as NativeAddon;
  } catch (err) {
    throw new Error(`cannot load the native addon ${file} (run \`npm install\` to build it): ${(err as Error).message}`);
  }
}

export const native: NativeAddon = load();

// CNN_ISA forces a kernel variant (scalar|avx2|avx512|neon); one the CPU lacks is an error.
if (process.env.CNN_ISA) {
  try {
    native.setIsa(process.env.CNN_ISA);
  } catch (err) {
    throw new RangeError(`CNN_ISA: ${(err as Error).message.replace(/^setIsa: /, '')}`);
  }
}
// CNN_CONV_ALGO forces a convolution path (auto|depthwise|direct|grid|by-image|batched|winograd|dense-map|lanes); an unknown name is an error.
if (process.env.CNN_CONV_ALGO) {
  try {
    native.setConvAlgo(process.env.CNN_CONV_ALGO as ConvAlgoName);
  } catch (err) {
    throw new RangeError(`CNN_CONV_ALGO: ${(err as Error).message.replace(/^setConvAlgo: /, '')}`);
  }
}

// CNN_WINOGRAD_TRAINING=0 keeps training's 3×3 layers off Winograd (its rounding is some 10× the direct sum's).
const winogradTraining = process.env.CNN_WINOGRAD_TRAINING;
if (winogradTraining !== undefined && winogradTraining !== '') {
  if (winogradTraining !== '0' && winogradTraining !== '1') throw new RangeError(`CNN_WINOGRAD_TRAINING: expected 0 or 1, got '${winogradTraining}'`);
  native.setWinogradTraining(winogradTraining === '1');
}

function threadsFromEnv(): number {
  const env = process.env.CNN_THREADS;
  if (env === undefined || env === '') return availableParallelism();
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new RangeError(`CNN_THREADS must be an integer between 1 and 1024 but is '${env}'`);
  }
  return n;
}

let threadCount = threadsFromEnv();

/** OpenMP threads passed into every kernel call (OpenMP settings are per OS thread). */
export function getThreads(): number {
  return threadCount;
}

export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new RangeError(`Expected an integer between 1 and 1024 for threads but received ${n}`);
  }
  threadCount = n;
}
