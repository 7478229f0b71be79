// The inverted residual block in eval mode as one native call (native/conv/inverted_residual.h):
// expand 1×1 → depthwise (→ squeeze-and-excitation) → project 1×1 (+ the block's input), each
// layer's bias and activation applied as it stores, the expanded channels kept in cache per run of
// images or band of rows: MobileNetV2's, MobileNetV3's and EfficientNet's blocks. An inference
// path: it records no gradient.
import { emptyFloat32 } from './storage.js';
import { native, getThreads, type InvertedResidualParams, type InvertedResidualLayers, type BlockGate } from './native.js';
import { convOutputSize } from './shape.js';
import { Tensor, isGradEnabled, formatShape, sameShape } from './tensor.js';

/** One layer of the block: its weight and bias (BatchNorm folded in), the range its output is clamped to, then its gate. */
export interface BlockLayer {
  weight: Tensor;
  bias: Tensor | null;
  clamp?: [number, number];
  gate?: BlockGate;
}

/** Squeeze-and-excitation: the depthwise output scaled per channel by fc2's gate(fc2(fc1's activation(fc1(its mean)))). */
export interface SqueezeExcitationLayers {
  fc1: BlockLayer;
  /** Its gate: 'sigmoid' where not given. */
  fc2: BlockLayer;
}

/** The depthwise layer's geometry, as Conv2d holds it, and the squeeze-and-excitation after it, if any. */
export interface DepthwiseLayer extends BlockLayer {
  stride: [number, number];
  /** [top, bottom, left, right] */
  pads: [number, number, number, number];
  dilation: [number, number];
  se?: SqueezeExcitationLayers;
}

function expectShape(t: Tensor, shape: number[], what: string): void {
  if (!sameShape(t.shape, shape)) throw new RangeError(`invertedResidual: ${what} ${formatShape(t.shape)} should be ${formatShape(shape)}`);
}

const packs = new WeakMap<object, { sources: (Float32Array | null)[]; data: Float32Array }>();
let packings = 0;

/** How many blocks' weights were packed in this process (tests check that eval reuses them). */
export const invertedResidualPackCount = (): number => packings;

/** The block's weights packed for its items, cached under `key` while the same weight arrays come with it. */
function packedLayers(key: object, params: InvertedResidualParams, layers: InvertedResidualLayers): Float32Array {
  const sources = [layers.expandWeight, layers.dwWeight, layers.projectWeight];
  const length = native.invertedResidualPackedFloats(params);
  const cached = packs.get(key);
  if (cached && cached.data.length === length && cached.sources.every((s, i) => s === sources[i])) return cached.data;
  const data = cached && cached.data.length === length ? cached.data : new Float32Array(length);
  native.invertedResidualPack(params, layers, data);
  packings++;
  packs.set(key, { sources, data });
  return data;
}

/**
 * project(depthwise(expand(x))) (+ x where `residual`); expand null: the depthwise layer takes x itself.
 * cacheKey: an object (eval fusion's block) under which the weights packed for the kernel are kept
 * while the same weight arrays come with it (eval's folded weights are new arrays when weights change).
 */
export function invertedResidual(x: Tensor, expand: BlockLayer | null, depthwise: DepthwiseLayer, project: BlockLayer, residual: boolean,
  cacheKey?: object): Tensor {
  const se = depthwise.se;
  const layers = [expand, depthwise, se?.fc1, se?.fc2, project].filter((l) => l !== null && l !== undefined);
  if (isGradEnabled() && [x, ...layers.flatMap((l) => [l.weight, l.bias])].some((t) => t?.requiresGrad)) {
    throw new RangeError('invertedResidual: an inference path; it records no gradient (noGrad, or inputs without requiresGrad)');
  }
  if (x.ndim !== 4) throw new RangeError(`invertedResidual: expected a 4-D input (N, C, H, W) but got ${formatShape(x.shape)}`);
  const [n, cIn, h, w] = x.shape;
  const [hidden, , kh, kw] = depthwise.weight.shape;
  const cOut = project.weight.shape[0];
  if (expand) expectShape(expand.weight, [hidden, cIn, 1, 1], 'expand weight');
  else if (hidden !== cIn) throw new RangeError(`invertedResidual: without expansion the depthwise layer takes the input's ${cIn} channels, not ${hidden}`);
  expectShape(depthwise.weight, [hidden, 1, kh, kw], 'depthwise weight');
  expectShape(project.weight, [cOut, hidden, 1, 1], 'project weight');
  const squeeze = se ? se.fc1.weight.shape[0] : 0;
  if (se) {
    expectShape(se.fc1.weight, [squeeze, hidden, 1, 1], 'squeeze-and-excitation fc1 weight');
    expectShape(se.fc2.weight, [hidden, squeeze, 1, 1], 'squeeze-and-excitation fc2 weight');
  }
  for (const [l, c, what] of [[expand, hidden, 'expand'], [depthwise, hidden, 'depthwise'], [se?.fc1, squeeze, 'fc1'], [se?.fc2, hidden, 'fc2'],
    [project, cOut, 'project']] as const) {
    if (l?.bias) expectShape(l.bias, [c], `${what} bias`);
  }
  const [strideH, strideW] = depthwise.stride, [padT, padB, padL, padR] = depthwise.pads, [dilH, dilW] = depthwise.dilation;
  const shape = [n, cOut, convOutputSize(h, kh, strideH, [padT, padB], dilH), convOutputSize(w, kw, strideW, [padL, padR], dilW)];
  if (residual && !sameShape(shape, x.shape)) throw new RangeError(`invertedResidual: the output ${formatShape(shape)} cannot add the input ${formatShape(x.shape)}`);
  const y = emptyFloat32(shape[0] * shape[1] * shape[2] * shape[3]);
  const params = { n, cIn, hidden, cOut, ...(se ? { squeeze } : {}), h, w, kh, kw, strideH, strideW, padT, padB, padL, padR, dilH, dilW };
  const call: InvertedResidualLayers = {
    expandWeight: expand ? expand.weight.data : null, expandBias: expand?.bias ? expand.bias.data : null,
    ...(expand?.clamp ? { expandClamp: expand.clamp } : {}), ...(expand?.gate ? { expandGate: expand.gate } : {}),
    dwWeight: depthwise.weight.data, dwBias: depthwise.bias ? depthwise.bias.data : null,
    ...(depthwise.clamp ? { dwClamp: depthwise.clamp } : {}), ...(depthwise.gate ? { dwGate: depthwise.gate } : {}),
    ...(se ? {
      seFc1Weight: se.fc1.weight.data, seFc1Bias: se.fc1.bias ? se.fc1.bias.data : null,
      ...(se.fc1.clamp ? { seClamp: se.fc1.clamp } : {}), ...(se.fc1.gate ? { seActGate: se.fc1.gate } : {}),
      seFc2Weight: se.fc2.weight.data, seFc2Bias: se.fc2.bias ? se.fc2.bias.data : null, seGate: se.fc2.gate ?? 'sigmoid',
    } : {}),
    projectWeight: project.weight.data, projectBias: project.bias ? project.bias.data : null,
  };
  if (cacheKey) call.packed = packedLayers(cacheKey, params, call);
  native.invertedResidualForward(params, call, x.data, residual ? x.data : null, y, getThreads());
  return new Tensor(y, shape);
}
