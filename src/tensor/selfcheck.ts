// Compares every kernel variant this CPU supports with the scalar references on a small GEMM,
// convolutions (forward and both gradients: the GEMM paths and the depthwise kernel; the fused eval
// blocks: inverted residuals with their gates and squeeze-and-excitation, ConvNeXt's block tail;
// eval's small network in one call) and pooling
// (the vector row loops against the direct ones), the optimizers' update loops (against the
// update rules in float32 written out here) and batch normalization (against the scalar
// variant's loops, forward and backward with ReLU6, per-channel and blocked). `cnn doctor` reports it.
import { native, getThreads, type ConvParams, type MaxPoolParams, type PlaneParams, type InvertedResidualParams, type ConvnextMlpParams } from './native.js';
import { convOutputShape } from './ops.js';
import { Generator } from './random.js';
import { convOutputSize } from './shape.js';
import { shapeSize } from './tensor.js';

export interface VariantCheck {
  isa: string;
  /** The GEMM, and eval's chain of Linear layers (linearChainForward). */
  gemmMaxError: number;
  convMaxError: number;
  /** Max, average and global average pooling: the largest difference of values, Infinity if an argmax differs. */
  poolMaxError: number;
  /** SGD (momentum, Nesterov, weight decay) and Adam (weight decay, AMSGrad): updated parameters and state. */
  optimMaxError: number;
  /** Batch normalization against the scalar variant: outputs, statistics and gradients. */
  normMaxError: number;
  ok: boolean;
}

const TOLERANCE = 1e-3;

function randomArray(n: number, g: Generator): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = g.random() * 2 - 1;
  return a;
}

function maxRelativeError(got: Float32Array, want: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i]));
    // NaN must count as a failure, so compare negatively.
    if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : err;
  }
  return worst;
}

function checkGemm(g: Generator, threads: number): number {
  const m = 37, n = 53, k = 71;
  const a = randomArray(k * m, g), b = randomArray(k * n, g), c0 = randomArray(m * n, g);
  const want = c0.slice(), got = c0.slice();
  const p = { transA: true, transB: false, m, n, k, alpha: 1.25, beta: 0.5, lda: m, ldb: n, ldc: n };
  native.gemmRef(p, a, b, want);
  native.gemm(p, a, b, got, threads);
  return maxRelativeError(got, want);
}

/** Eval's linear chain (two layers, ReLU between, one with no bias; 23 rows leave a partial row
 * block and 13 and 37 outputs partial column panels on every ISA) against gemmRef layer by layer. */
function checkLinearChain(g: Generator, threads: number): number {
  const m = 23, widths = [45, 37, 13];
  const weights = [0, 1].map((l) => randomArray(widths[l] * widths[l + 1], g)), bias = randomArray(widths[1], g), x = randomArray(m * widths[0], g);
  let want = x;
  for (let l = 0; l < 2; l++) {
    const [k, n] = [widths[l], widths[l + 1]], y = new Float32Array(m * n);
    native.gemmRef({ transA: false, transB: true, m, n, k, alpha: 1, beta: 0, lda: k, ldb: k, ldc: n }, want, weights[l], y);
    if (l === 0) for (let i = 0; i < y.length; i++) y[i] = Math.max(0, y[i] + bias[i % n]);
    want = y;
  }
  const got = new Float32Array(m * widths[2]);
  const layers = [0, 1].map((l) => ({ inFeatures: widths[l], outFeatures: widths[l + 1], weight: weights[l], bias: l === 0 ? bias : null,
    clamp: (l === 0 ? [0, Infinity] : [-Infinity, Infinity]) as [number, number],
    packed: new Float32Array(native.linearChainPackedLength(widths[l + 1], widths[l])), fresh: true }));
  native.linearChainForward({ m, layers }, x, got, threads);
  return maxRelativeError(got, want);
}

/** A grouped convolution (the GEMM paths), a strided 5×5 depthwise one on a map large enough
 * for the stride-phase rows (its gradients; the forward pass runs in bands of rows on AVX-512), one on a small map (the channel-vector kernel: 21 channels leave a
 * partial vector on every ISA, stride in one axis), one on a 1×1 map (cut to its centre tap), ones
 * on 2×2 and 1×2 maps (a dense matrix per channel, depthwise_planes.h: 21 and 11 channels leave a
 * partial group of planes on every ISA),
 * a stride-1 3×3 one on one thread (the grid path forward and for the input gradient: output
 * rows packed from the padded image, 37 and 33 channels and 11-pixel rows leaving partial register
 * tiles on every ISA), Winograd on a 16×17 map (eval's forward with its weights transformed once, and training's forward and input gradient, which transform them per call; 33 and 37 channels, 17 columns leave a partial tile), a 5×5 one with 6 output channels and asymmetric padding (the direct
 * loops in all three passes, a channel block and a vector block short of full on every ISA, and
 * eval's conv → ReLU → 2×2 max pool through them), and
 * a strided 3×3 one from 2×2 to 1×1 maps and a 3×3 one on 2×2 maps with 48 images (the dense map
 * of whole images in every pass, and eval's forward pass with the dense weights made once; 11 and 13
 * channels leave partial register tiles on every ISA), 3×3 ones on 4×4 maps, stride 1 and stride 2 (whole
 * planes in one vector: im2col and col2im by one permutation per tap on AVX-512), a 7×7
 * stride-2 stem on 32×32 (16-pixel output rows: im2col and col2im by rows on AVX-512), and a 1×1
 * one on a 7×15 map (its weight gradient with pixels in the lanes: 105 pixels leave a partial
 * vector, 13 and 6 channels partial register tiles, on every ISA), and a 3-channel 3×3 stride-2
 * stem (the few-input-channel forward loops: 11-pixel rows leave a partial vector, 17 channels a
 * partial channel block, on every ISA), and 3×3 ones on 3×4 and 5×8 maps (output channels in
 * the lanes, conv_lanes.h: 37 and 20 channels leave a partial block, 5 images a partial tile; the
 * 8-pixel rows there on AVX-512 only), and a depthwise 3×3 one on a 13×40 map (row by row on
 * AVX-512, depthwise_3x3.h, forward and input gradient: 40 columns leave a partial last vector, 13
 * rows every tail of the row tiles). */
const CONV_CHECKS: { p: ConvParams; threads?: number }[] = [
  { p: { n: 3, cIn: 6, h: 9, w: 7, cOut: 10, kh: 3, kw: 3, strideH: 2, strideW: 1, padT: 1, padB: 0, padL: 1, padR: 2, dilH: 1, dilW: 2, groups: 2 } },
  { p: { n: 2, cIn: 5, h: 29, w: 37, cOut: 5, kh: 5, kw: 5, strideH: 2, strideW: 2, padT: 2, padB: 1, padL: 2, padR: 2, dilH: 1, dilW: 1, groups: 5 } },
  { p: { n: 3, cIn: 21, h: 6, w: 5, cOut: 21, kh: 3, kw: 3, strideH: 2, strideW: 1, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 21 } },
  { p: { n: 3, cIn: 19, h: 1, w: 1, cOut: 19, kh: 3, kw: 3, strideH: 1, strideW: 1, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 19 } },
  { p: { n: 5, cIn: 21, h: 2, w: 2, cOut: 21, kh: 3, kw: 3, strideH: 1, strideW: 1, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 21 } },
  { p: { n: 3, cIn: 11, h: 1, w: 2, cOut: 11, kh: 3, kw: 3, strideH: 1, strideW: 1, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 11 } },
  { p: { n: 2, cIn: 33, h: 9, w: 11, cOut: 37, kh: 3, kw: 3, strideH: 1, strideW: 1, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 1 }, threads: 1 },
  { p: { n: 2, cIn: 33, h: 16, w: 17, cOut: 37, kh: 3, kw: 3, strideH: 1, strideW: 1, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 1 } },
  { p: { n: 3, cIn: 5, h: 11, w: 13, cOut: 6, kh: 5, kw: 5, strideH: 1, strideW: 1, padT: 2, padB: 1, padL: 2, padR: 2, dilH: 1, dilW: 1, groups: 1 } },
  { p: { n: 5, cIn: 12, h: 2, w: 2, cOut: 14, kh: 3, kw: 3, strideH: 2, strideW: 2, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 1 } },
  { p: { n: 48, cIn: 11, h: 2, w: 2, cOut: 13, kh: 3, kw: 3, strideH: 1, strideW: 1, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 1 } },
  { p: { n: 6, cIn: 10, h: 4, w: 4, cOut: 12, kh: 3, kw: 3, strideH: 1, strideW: 1, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 1 } },
  { p: { n: 5, cIn: 8, h: 4, w: 4, cOut: 16, kh: 3, kw: 3, strideH: 2, strideW: 2, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 1 } },
  { p: { n: 2, cIn: 3, h: 32, w: 32, cOut: 8, kh: 7, kw: 7, strideH: 2, strideW: 2, padT: 3, padB: 3, padL: 3, padR: 3, dilH: 1, dilW: 1, groups: 1 } },
  { p: { n: 3, cIn: 13, h: 7, w: 15, cOut: 6, kh: 1, kw: 1, strideH: 1, strideW: 1, padT: 0, padB: 0, padL: 0, padR: 0, dilH: 1, dilW: 1, groups: 1 } },
  { p: { n: 2, cIn: 3, h: 19, w: 21, cOut: 17, kh: 3, kw: 3, strideH: 2, strideW: 2, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 1 } },
  { p: { n: 5, cIn: 9, h: 3, w: 4, cOut: 37, kh: 3, kw: 3, strideH: 1, strideW: 1, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 1 } },
  { p: { n: 2, cIn: 7, h: 5, w: 8, cOut: 20, kh: 3, kw: 3, strideH: 1, strideW: 1, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 1 } },
  { p: { n: 3, cIn: 19, h: 13, w: 40, cOut: 19, kh: 3, kw: 3, strideH: 1, strideW: 1, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 19 } },
];

function checkConv(g: Generator, threads: number): number {
  return Math.max(...CONV_CHECKS.map((c) => checkConvShape(c.p, g, c.threads ?? threads)),
    ...BLOCK_CHECKS.map((p) => checkInvertedResidual(p, g, threads)), ...MLP_CHECKS.map((p) => checkConvnextMlp(p, g, threads)), checkSmallNet(g, threads),
    checkDenseLayer(g, threads));
}

/** DenseNet's eval layer on 2×2 maps in one call (denseLayerSmallForward): 21 of 30 channels of 13 images mapped and
 * clamped, 1×1 to 16 with ReLU, 3×3 pad 1 to 6 as the dense map by pixel (13 images leave a partial register tile, 6
 * channels a partial panel, on every ISA), against the references one after the other. */
function checkDenseLayer(g: Generator, threads: number): number {
  const n = 13, c = 21, total = 30, mid = 16, growth = 6, pixels = 4;
  const conv = (cIn: number, cOut: number, k: number): ConvParams => ({ n, cIn, h: 2, w: 2, cOut, kh: k, kw: k, strideH: 1, strideW: 1,
    padT: k >> 1, padB: k >> 1, padL: k >> 1, padR: k >> 1, dilH: 1, dilW: 1, groups: 1 });
  const p1 = conv(c, mid, 1), p2 = conv(mid, growth, 3);
  const features = randomArray(n * total * pixels, g), scale = randomArray(c, g), shift = randomArray(c, g);
  const w1 = randomArray(mid * c, g), b1 = randomArray(mid, g), w2 = randomArray(growth * mid * 9, g);
  const mapped = new Float32Array(n * c * pixels), h = new Float32Array(n * mid * pixels), y = new Float32Array(n * growth * pixels);
  for (let i = 0; i < mapped.length; i++) {
    const image = Math.floor(i / (c * pixels)), ch = Math.floor(i / pixels) % c;
    mapped[i] = Math.max(0, features[image * total * pixels + (i % (c * pixels))] * scale[ch] + shift[ch]);
  }
  native.conv2dRefForward(p1, mapped, w1, b1, h);
  native.conv2dRefForward(p2, h.map((v) => Math.max(0, v)), w2, null, y);
  const dense = new Float32Array(growth * pixels * pixels * mid);
  native.conv2dDenseMapWeightsByPixel(p2, w2, dense, threads);
  const got = features.slice();
  native.denseLayerSmallForward({ n, channels: c, total, pixels, scale, shift, inputClamp: [0, Infinity], layers: [
    { inFeatures: c, outFeatures: mid, weight: w1, bias: b1, clamp: [0, Infinity], packed: new Float32Array(native.linearChainPackedLength(mid, c)), fresh: true },
    { inFeatures: pixels * mid, outFeatures: growth * pixels, weight: dense, bias: null, clamp: [-Infinity, Infinity],
      packed: new Float32Array(native.linearChainPackedLength(growth * pixels, pixels * mid)), fresh: true }] }, got, threads);
  const fresh = new Float32Array(y.length);
  for (let image = 0; image < n; image++) fresh.set(got.subarray((image * total + c) * pixels, (image * total + c + growth) * pixels), image * growth * pixels);
  return maxRelativeError(fresh, y);
}

/** Eval's small network in one call (smallNetForward), where its convolutions take the direct loops:
 * conv 1→6 5×5 and 6→16 3×3, each with ReLU and a 2×2 max pool, then a Linear 144→10, on 8 images of
 * 20×20 (16- and 6-pixel rows; 6 channels a partial block), against the references one after the other. */
function checkSmallNet(g: Generator, threads: number): number {
  const n = 8;
  const convs = [{ cIn: 1, h: 20, w: 20, cOut: 6, k: 5 }, { cIn: 6, h: 8, w: 8, cOut: 16, k: 3 }].map(({ cIn, h, w, cOut, k }) => ({
    n, cIn, h, w, cOut, kh: k, kw: k, strideH: 1, strideW: 1, padT: 0, padB: 0, padL: 0, padR: 0, dilH: 1, dilW: 1, groups: 1,
    weight: randomArray(cOut * cIn * k * k, g), bias: randomArray(cOut, g), clamp: [0, Infinity] as [number, number], pooled: true }));
  const layer = { inFeatures: 144, outFeatures: 10, weight: randomArray(1440, g), bias: randomArray(10, g), clamp: [-Infinity, Infinity] as [number, number],
    packed: new Float32Array(native.linearChainPackedLength(10, 144)), fresh: true };
  let want = randomArray(n * 400, g);
  const x = want, got = new Float32Array(n * 10);
  if (!native.smallNetForward({ convs, layers: [layer] }, x, got, threads)) return 0;
  for (const c of convs) {
    const y = new Float32Array(shapeSize(convOutputShape(c)));
    native.conv2dRefForward(c, want, c.weight, c.bias, y);
    want = maxPool2x2Relu(y, convOutputShape(c));
  }
  const logits = new Float32Array(n * 10);
  native.gemmRef({ transA: false, transB: true, m: n, n: 10, k: 144, alpha: 1, beta: 0, lda: 144, ldb: 144, ldc: 10 }, want, layer.weight, logits);
  return maxRelativeError(got, logits.map((v, i) => v + layer.bias[i % 10]));
}

/** The activations of a checked block: MobileNetV2's ReLU6 clamps; EfficientNet's SiLU, its
 * squeeze-and-excitation (with params.squeeze) SiLU then Sigmoid; MobileNetV3's Hardswish, its
 * squeeze-and-excitation ReLU then Hardsigmoid. */
type BlockKind = 'relu6' | 'silu' | 'hardswish';

/** The fused eval block (expand, depthwise, squeeze-and-excitation, project in one kernel): 21
 * expanded channels leave a partial vector on every ISA, stride 2; a block without expansion adding
 * its input (on NCHW planes); a 40×40 map whose expanded pixels go in bands of rows; 35-pixel rows
 * at stride 2 for the depthwise strips of 8 output pixels (the 40×40 map has them at stride 1);
 * gated blocks with squeeze-and-excitation over runs of whole images, one without expansion. */
const BLOCK_CHECKS: [InvertedResidualParams, BlockKind][] = [
  [{ n: 5, cIn: 6, hidden: 21, cOut: 7, h: 7, w: 6, kh: 3, kw: 3, strideH: 2, strideW: 2, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1 }, 'relu6'],
  [{ n: 3, cIn: 19, hidden: 19, cOut: 19, h: 5, w: 5, kh: 3, kw: 3, strideH: 1, strideW: 1, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1 }, 'relu6'],
  [{ n: 1, cIn: 8, hidden: 96, cOut: 8, h: 40, w: 40, kh: 3, kw: 3, strideH: 1, strideW: 1, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1 }, 'relu6'],
  [{ n: 2, cIn: 8, hidden: 21, cOut: 8, h: 9, w: 35, kh: 3, kw: 3, strideH: 2, strideW: 2, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1 }, 'relu6'],
  [{ n: 7, cIn: 6, hidden: 37, cOut: 6, squeeze: 5, h: 6, w: 5, kh: 3, kw: 3, strideH: 1, strideW: 1, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1 }, 'silu'],
  [{ n: 4, cIn: 9, hidden: 9, cOut: 5, squeeze: 8, h: 9, w: 7, kh: 5, kw: 5, strideH: 2, strideW: 2, padT: 2, padB: 2, padL: 2, padR: 2, dilH: 1, dilW: 1 }, 'hardswish'],
];

const GATES = {
  silu: (v: number) => v / (1 + Math.exp(-v)),
  sigmoid: (v: number) => 1 / (1 + Math.exp(-v)),
  hardswish: (v: number) => v * Math.min(Math.max(v + 3, 0), 6) / 6,
  hardsigmoid: (v: number) => Math.min(Math.max(v + 3, 0), 6) / 6,
};

/** The fused block against the reference convolutions one after the other, each followed by the kind's activation. */
function checkInvertedResidual([p, kind]: [InvertedResidualParams, BlockKind], g: Generator, threads: number): number {
  const conv = (cIn: number, h: number, w: number, cOut: number, k: number, groups: number): ConvParams => ({
    n: p.n, cIn, h, w, cOut, kh: k, kw: k, strideH: k === 1 ? 1 : p.strideH, strideW: k === 1 ? 1 : p.strideW,
    padT: k === 1 ? 0 : p.padT, padB: k === 1 ? 0 : p.padB, padL: k === 1 ? 0 : p.padL, padR: k === 1 ? 0 : p.padR, dilH: 1, dilW: 1, groups,
  });
  const expand = p.hidden !== p.cIn, dwp = conv(p.hidden, p.h, p.w, p.hidden, p.kh, p.hidden);
  const [, , outH, outW] = convOutputShape(dwp);
  const residual = p.cIn === p.cOut && outH === p.h && outW === p.w;
  // Weights scaled by 1/√fan-in, so that the activations cut some values and pass others.
  const weights = (n: number, fanIn: number) => randomArray(n, g).map((v) => v / Math.sqrt(fanIn));
  const x = randomArray(p.n * p.cIn * p.h * p.w, g);
  const act = kind === 'relu6' ? { clamp: [0, 6] as [number, number] } : { gate: kind };
  const S = p.squeeze ?? 0;
  const se = { seFc1Weight: weights(S * p.hidden, p.hidden), seFc1Bias: randomArray(S, g), seFc2Weight: weights(p.hidden * S, S), seFc2Bias: randomArray(p.hidden, g) };
  const layers = {
    expandWeight: expand ? weights(p.hidden * p.cIn, p.cIn) : null, expandBias: expand ? randomArray(p.hidden, g) : null,
    ...(act.clamp ? { expandClamp: act.clamp, dwClamp: act.clamp } : { expandGate: act.gate, dwGate: act.gate }),
    dwWeight: weights(p.hidden * p.kh * p.kw, p.kh * p.kw), dwBias: randomArray(p.hidden, g),
    ...(S > 0 ? {
      ...se, ...(kind === 'silu' ? { seActGate: 'silu' as const, seGate: 'sigmoid' as const } : { seClamp: [0, Infinity] as [number, number], seGate: 'hardsigmoid' as const }),
    } : {}),
    projectWeight: weights(p.cOut * p.hidden, p.hidden), projectBias: randomArray(p.cOut, g),
  };
  const activate = (a: Float32Array) => a.map(act.gate ? GATES[act.gate] : (v) => Math.min(Math.max(v, 0), 6));
  let h = x;
  if (layers.expandWeight) {
    h = new Float32Array(p.n * p.hidden * p.h * p.w);
    native.conv2dRefForward(conv(p.cIn, p.h, p.w, p.hidden, 1, 1), x, layers.expandWeight, layers.expandBias, h);
    h = activate(h);
  }
  const dw = new Float32Array(p.n * p.hidden * outH * outW);
  native.conv2dRefForward(dwp, h, layers.dwWeight, layers.dwBias, dw);
  const d = S > 0 ? squeezeExcite(activate(dw), p.n, p.hidden, outH * outW, se, kind) : activate(dw);
  const want = new Float32Array(p.n * p.cOut * outH * outW), got = new Float32Array(want.length);
  native.conv2dRefForward(conv(p.hidden, outH, outW, p.cOut, 1, 1), d, layers.projectWeight, layers.projectBias, want);
  if (residual) for (let i = 0; i < want.length; i++) want[i] += x[i];
  native.invertedResidualForward(p, layers, x, residual ? x : null, got, threads);
  return maxRelativeError(got, want);
}

/** ConvNeXt's fused block tail: 19 channels and 37 hidden off every lane count over runs of
 * whole images; 2000 pixels of 70 hidden, which go in bands of pixels. */
const MLP_CHECKS: ConvnextMlpParams[] = [
  { n: 3, c: 19, hidden: 37, pixels: 10, eps: 1e-6 },
  { n: 1, c: 5, hidden: 70, pixels: 2000, eps: 1e-6 },
];

/** The fused tail against LayerNorm, the two products, erf GELU, the layer scale and the residual written out in doubles. */
function checkConvnextMlp(p: ConvnextMlpParams, g: Generator, threads: number): number {
  const { n, c, hidden, pixels } = p, size = n * c * pixels;
  const weights = (k: number, fanIn: number) => randomArray(k, g).map((v) => v / Math.sqrt(fanIn));
  const d = randomArray(size, g), x = randomArray(size, g);
  const layers = {
    lnWeight: randomArray(c, g), lnBias: randomArray(c, g), fc1Weight: weights(hidden * c, c), fc1Bias: randomArray(hidden, g),
    fc2Weight: weights(c * hidden, hidden), fc2Bias: randomArray(c, g), scale: randomArray(c, g),
  };
  const want = new Float32Array(size), got = new Float32Array(size), z = new Float64Array(c), h = new Float64Array(hidden);
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < pixels; q++) {
      const at = (k: number) => (i * c + k) * pixels + q;
      let mean = 0, v = 0;
      for (let k = 0; k < c; k++) mean += d[at(k)];
      mean /= c;
      for (let k = 0; k < c; k++) v += (d[at(k)] - mean) ** 2;
      const rstd = 1 / Math.sqrt(v / c + p.eps);
      for (let k = 0; k < c; k++) z[k] = (d[at(k)] - mean) * rstd * layers.lnWeight[k] + layers.lnBias[k];
      for (let j = 0; j < hidden; j++) {
        let s = layers.fc1Bias[j];
        for (let k = 0; k < c; k++) s += layers.fc1Weight[j * c + k] * z[k];
        h[j] = 0.5 * s * (1 + erf(s / Math.SQRT2));
      }
      for (let k = 0; k < c; k++) {
        let s = layers.fc2Bias[k];
        for (let j = 0; j < hidden; j++) s += layers.fc2Weight[k * hidden + j] * h[j];
        want[at(k)] = x[at(k)] + layers.scale[k] * s;
      }
    }
  }
  native.convnextMlpForward(p, layers, d, x, got, threads);
  return maxRelativeError(got, want);
}

/** erf to about 1e-14 (its Maclaurin series within 3, the continued fraction of erfc beyond). */
function erf(v: number): number {
  const a = Math.abs(v);
  if (a < 3) {
    let term = a, sum = a;
    for (let k = 1; k < 80; k++) {
      term *= -a * a / k;
      sum += term / (2 * k + 1);
    }
    return Math.sign(v) * Math.min(1, 2 / Math.sqrt(Math.PI) * sum);
  }
  let f = 0;
  for (let k = 60; k >= 1; k--) f = k / 2 / (a + f);
  return Math.sign(v) * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f));
}

/** d (n × c planes of `plane` pixels) scaled per image and channel by its squeeze-and-excitation, in doubles. */
function squeezeExcite(d: Float32Array, n: number, c: number, plane: number,
  l: { seFc1Weight: Float32Array; seFc1Bias: Float32Array; seFc2Weight: Float32Array; seFc2Bias: Float32Array }, kind: BlockKind): Float32Array {
  const s = l.seFc1Bias.length, out = new Float32Array(d.length);
  for (let i = 0; i < n; i++) {
    const mean = Array.from({ length: c }, (_, k) => d.subarray((i * c + k) * plane, (i * c + k + 1) * plane).reduce((a, v) => a + v, 0) / plane);
    const mid = Array.from({ length: s }, (_, j) => {
      const v = mean.reduce((a, m, k) => a + l.seFc1Weight[j * c + k] * m, l.seFc1Bias[j]);
      return kind === 'silu' ? GATES.silu(v) : Math.max(v, 0);
    });
    for (let k = 0; k < c; k++) {
      const v = mid.reduce((a, m, j) => a + l.seFc2Weight[k * s + j] * m, l.seFc2Bias[k]);
      const scale = kind === 'silu' ? GATES.sigmoid(v) : GATES.hardsigmoid(v);
      for (let q = 0; q < plane; q++) out[(i * c + k) * plane + q] = d[(i * c + k) * plane + q] * scale;
    }
  }
  return out;
}

/** The 2×2 stride-2 max pool (floor mode) of max(y, 0), y of shape [n, c, oh, ow]. */
function maxPool2x2Relu(y: Float32Array, [n, c, oh, ow]: number[]): Float32Array {
  const ph = Math.floor(oh / 2), pw = Math.floor(ow / 2), out = new Float32Array(n * c * ph * pw);
  for (let plane = 0; plane < n * c; plane++)
    for (let i = 0; i < ph; i++)
      for (let j = 0; j < pw; j++) {
        const at = (r: number, q: number) => y[(plane * oh + 2 * i + r) * ow + 2 * j + q];
        out[(plane * ph + i) * pw + j] = Math.max(0, at(0, 0), at(0, 1), at(1, 0), at(1, 1));
      }
  return out;
}

function checkConvShape(p: ConvParams, g: Generator, threads: number): number {
  const xs = p.n * p.cIn * p.h * p.w, ws = p.cOut * (p.cIn / p.groups) * p.kh * p.kw, ys = shapeSize(convOutputShape(p));
  const x = randomArray(xs, g), w = randomArray(ws, g), b = randomArray(p.cOut, g), dy = randomArray(ys, g);
  const pairs: [Float32Array, Float32Array][] = [];
  const y = [new Float32Array(ys), new Float32Array(ys)];
  native.conv2dRefForward(p, x, w, b, y[0]);
  native.conv2dForward(p, x, w, b, y[1], threads);
  pairs.push([y[1], y[0]]);
  // Where eval would take Winograd (3×3, stride 1, enough channels), the forward pass through it too.
  const winogradFloats = native.conv2dWinogradFloats(p, threads);
  if (winogradFloats > 0) {
    const u = new Float32Array(winogradFloats), yw = new Float32Array(ys);
    native.conv2dWinogradWeights(p, w, u, threads);
    native.conv2dForward({ ...p, winograd: u }, x, w, b, yw, threads);
    pairs.push([yw, y[0]]);
  }
  // Where eval would take the dense map with its weights made once, the forward pass given them too.
  const denseFloats = native.conv2dDenseMapFloats(p, threads);
  if (denseFloats > 0) {
    const wd = new Float32Array(denseFloats), yd = new Float32Array(ys);
    native.conv2dDenseMapWeights(p, w, wd, threads);
    native.conv2dForward({ ...p, denseMap: wd }, x, w, b, yd, threads);
    pairs.push([yd, y[0]]);
  }
  // Where the direct loops take the layer, also the forward pass clamped at 0 and max-pooled 2×2 as it
  // leaves them, and the maxima's positions: the reference's value there is the reference's maximum.
  const shape = convOutputShape(p), pooled = maxPool2x2Relu(y[0], shape);
  const got = new Float32Array(pooled.length), at = new Float32Array(pooled.length);
  if (native.conv2dMaxPoolForward({ ...p, clamp: [0, Infinity] }, x, w, b, got, at, threads)) {
    const plane = shape[2] * shape[3], pooledPlane = Math.floor(shape[2] / 2) * Math.floor(shape[3] / 2);
    const there = at.map((pos, i) => Math.max(0, y[0][Math.floor(i / pooledPlane) * plane + pos] ?? NaN));
    pairs.push([got, pooled], [there, pooled]);
  }
  const dx = [new Float32Array(xs), new Float32Array(xs)];
  native.conv2dRefBackwardInput(p, dy, w, dx[0]);
  native.conv2dBackwardInput(p, dy, w, dx[1], threads);
  pairs.push([dx[1], dx[0]]);
  const dw = [new Float32Array(ws), new Float32Array(ws)], db = [new Float32Array(p.cOut), new Float32Array(p.cOut)];
  native.conv2dRefBackwardWeight(p, x, dy, dw[0], db[0]);
  native.conv2dBackwardWeight(p, x, dy, dw[1], db[1], threads);
  pairs.push([dw[1], dw[0]], [db[1], db[0]]);
  return Math.max(...pairs.map(([got, want]) => maxRelativeError(got, want)));
}

/** The ResNet stem's 3×3 stride-2 window with padding and a 2×2 one, on rows of 23 and 40 (a full vector and a tail). */
const POOL_CHECKS: MaxPoolParams[] = [
  { n: 2, c: 3, h: 17, w: 23, kh: 3, kw: 3, strideH: 2, strideW: 2, padH: 1, padW: 1, dilH: 1, dilW: 1, ceilMode: true },
  { n: 1, c: 4, h: 12, w: 40, kh: 2, kw: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, dilH: 1, dilW: 1, ceilMode: false },
];

/** Global average pooling (the vector loops) on 1×1 and 7×7 planes, 37 planes leaving a partial vector, and a 1×1 map spread to 7×7. */
const ADAPTIVE_AVG_CHECKS: PlaneParams[] = [
  { planes: 37, h: 1, w: 1, outH: 1, outW: 1 },
  { planes: 37, h: 7, w: 7, outH: 1, outW: 1 },
  { planes: 5, h: 1, w: 1, outH: 7, outW: 7 },
];

/** The pooled convolution's backward pass through ReLU's mask and a 2×2 max pool (one write per
 * place, 4 outputs a vector) against the zero-and-scatter it replaces, written out here: 3 planes
 * of 9×11 (an odd row and column no window covers; rows of 5 outputs leave a partial vector). */
function checkPoolPairsBackward(g: Generator, threads: number): number {
  const planes = 3, h = 9, w = 11, outH = 4, outW = 5, size = planes * outH * outW;
  const dy = randomArray(size, g), y = randomArray(size, g), indices = new Float32Array(size);
  for (let o = 0; o < size; o++) {
    const k = Math.floor(g.random() * 4), ph = Math.floor(o / outW) % outH, pw = o % outW;
    indices[o] = (2 * ph + (k >> 1)) * w + 2 * pw + (k & 1);
  }
  const want = new Float32Array(planes * h * w), got = new Float32Array(want.length);
  for (let o = 0; o < size; o++) if (y[o] > 0) want[Math.floor(o / (outH * outW)) * h * w + indices[o]] += dy[o];
  native.maxPoolReluBackward({ planes, h, w, outH, outW }, y, dy, indices, got, threads);
  return maxRelativeError(got, want);
}

function checkPool(g: Generator, threads: number): number {
  let worst = 0;
  for (const p of POOL_CHECKS) {
    const x = randomArray(p.n * p.c * p.h * p.w, g);
    const outH = convOutputSize(p.h, p.kh, p.strideH, p.padH, p.dilH, p.ceilMode);
    const outW = convOutputSize(p.w, p.kw, p.strideW, p.padW, p.dilW, p.ceilMode);
    const size = p.n * p.c * outH * outW;
    const [y, want, idx, wantIdx] = [0, 1, 2, 3].map(() => new Float32Array(size));
    native.maxPool2dRefForward(p, x, want, wantIdx);
    native.maxPool2dForward(p, x, y, idx, threads);
    if (idx.some((v, i) => v !== wantIdx[i])) return Infinity;
    // Without argmax (eval), the values in two passes (rows, then columns).
    const values = new Float32Array(size);
    native.maxPool2dForward(p, x, values, null, threads);
    worst = Math.max(worst, maxRelativeError(values, want));
    const avg = { ...p, countIncludePad: false, divisorOverride: 0 };
    const [ya, wantA] = [new Float32Array(size), new Float32Array(size)];
    native.avgPool2dRefForward(avg, x, wantA);
    native.avgPool2dForward(avg, x, ya, threads);
    worst = Math.max(worst, maxRelativeError(y, want), maxRelativeError(ya, wantA));
  }
  worst = Math.max(worst, checkPoolPairsBackward(g, threads));
  for (const p of ADAPTIVE_AVG_CHECKS) {
    const x = randomArray(p.planes * p.h * p.w, g);
    const [y, want] = [0, 1].map(() => new Float32Array(p.planes * p.outH * p.outW));
    native.adaptiveAvgPool2dRefForward(p, x, want);
    native.adaptiveAvgPool2dForward(p, x, y, threads);
    worst = Math.max(worst, maxRelativeError(y, want));
  }
  return worst;
}

const f = Math.fround;

/** One Nesterov SGD step with weight decay, then one AMSGrad Adam step with coupled weight decay
 * (its third), from a non-zero state, on 40,003 floats (chunks over threads and a vector tail),
 * against the rules computed in float32 one operation at a time. */
function checkOptim(g: Generator, threads: number): number {
  const n = 40_003;
  const p = randomArray(n, g), grad = randomArray(n, g), buf = randomArray(n, g);
  const m = randomArray(n, g), v = randomArray(n, g).map(Math.abs), vmax = v.map((x) => f(x * 1.5));
  const want = { p: p.slice(), buf: buf.slice(), m: m.slice(), v: v.slice(), vmax: vmax.slice() };
  native.sgdStep(p, grad, buf, { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0.01, nesterov: true, maximize: false, newBuffer: false }, threads);
  const [lr, b1, b2, eps, wd, step] = [0.01, 0.9, 0.999, 1e-8, 0.05, 3];
  native.adamStep(p, grad, { expAvg: m, expAvgSq: v, maxExpAvgSq: vmax }, { lr, beta1: b1, beta2: b2, eps, weightDecay: wd, step, amsgrad: true, decoupled: false, maximize: false }, threads);
  const stepSize = f(lr / (1 - b1 ** step)), bias2Sqrt = f(Math.sqrt(1 - b2 ** step));
  for (let i = 0; i < n; i++) {
    const d = f(grad[i] + f(f(0.01) * want.p[i]));
    want.buf[i] = f(f(want.buf[i] * f(0.9)) + d);
    want.p[i] = f(want.p[i] - f(f(0.1) * f(d + f(f(0.9) * want.buf[i]))));
    const ga = f(grad[i] + f(f(wd) * want.p[i]));
    want.m[i] = f(f(want.m[i] * f(b1)) + f(f(1 - b1) * ga));
    want.v[i] = f(f(want.v[i] * f(b2)) + f(f(f(1 - b2) * ga) * ga));
    want.vmax[i] = Math.max(want.vmax[i], want.v[i]);
    want.p[i] = f(want.p[i] - f(stepSize * f(want.m[i] / f(f(f(Math.sqrt(want.vmax[i])) / bias2Sqrt) + f(eps)))));
  }
  return Math.max(maxRelativeError(p, want.p), maxRelativeError(buf, want.buf), maxRelativeError(m, want.m),
    maxRelativeError(v, want.v), maxRelativeError(vmax, want.vmax));
}

/** Planes of 7 (blocked loops) and 1,100 (per-channel loops) elements, 5 channels, batch 3; BatchNorm → ReLU6, and BatchNorm → add a residual → ReLU. */
function batchNormOutputs(threads: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (const s of [7, 1100]) {
    for (const withResidual of [false, true]) {
      const g = new Generator(7), shape = [3, 5, 1, s], len = 15 * s;
      const x = randomArray(len, g).map((v) => v * 4 + 1), dy = randomArray(len, g), weight = randomArray(5, g), bias = randomArray(5, g);
      const [y, dx, residual, dresidual] = [new Float32Array(len), new Float32Array(len), randomArray(len, g), new Float32Array(len)];
      const [runningMean, runningVar, saveMean, saveInvstd, dweight, dbias] = [0, 1, 2, 3, 4, 5].map(() => new Float32Array(5).fill(1));
      const coefficients = new Float32Array(10);
      const fused = withResidual ? { activation: 'relu' as const, residual, coefficients } : { activation: 'relu6' as const, coefficients };
      native.batchNormForward({ x, shape, weight, bias, runningMean, runningVar, training: true, momentum: 0.1, eps: 1e-5, y, saveMean, saveInvstd, ...fused }, threads);
      native.batchNormBackward({ x, dy, shape, weight, saveMean, saveInvstd, training: true, dx, dweight, dbias, ...fused,
        ...(withResidual ? { dresidual } : {}) }, threads);
      out.push(y, dx, runningMean, runningVar, saveMean, saveInvstd, dweight, dbias, ...(withResidual ? [dresidual] : []));
    }
  }
  return out;
}

/** Runs the check on every supported variant, then restores the active one. */
export function checkKernelVariants(threads = getThreads()): VariantCheck[] {
  const info = native.cpuInfo();
  const results: VariantCheck[] = [];
  try {
    native.setIsa('scalar');
    const normWant = batchNormOutputs(threads);
    for (const isa of info.supported) {
      native.setIsa(isa);
      const g = new Generator(42);
      const gemmMaxError = Math.max(checkGemm(g, threads), checkLinearChain(g, threads));
      const convMaxError = checkConv(g, threads);
      const poolMaxError = checkPool(g, threads);
      const optimMaxError = checkOptim(g, threads);
      const normMaxError = Math.max(...batchNormOutputs(threads).map((got, i) => maxRelativeError(got, normWant[i])));
      const ok = Math.max(gemmMaxError, convMaxError, poolMaxError, optimMaxError, normMaxError) <= TOLERANCE;
      results.push({ isa, gemmMaxError, convMaxError, poolMaxError, optimMaxError, normMaxError, ok });
    }
  } finally {
    native.setIsa(info.active);
  }
  return results;
}
