// DenseNet's eval layer (norm1 → relu1 → conv1 → norm2 → relu2 → conv2) on maps of at most four
// pixels (its last two blocks at CIFAR sizes) as one native call (native/conv/dense_layer.h) that
// writes the layer's new channels straight into its block's features: one parallel region per
// layer where the layer-by-layer path opened four, on products of a few microseconds each. conv1
// runs with norm2 folded in and relu2 as its clamp; conv2 as a dense map of the whole image with
// its columns by pixel, built and packed once per weights generation.
import type { Module } from '../nn/module.js';
import type { Conv2d } from '../nn/conv.js';
import type { BatchNorm2d } from '../nn/norm.js';
import { affineFoldable, activationClamp, batchNormAffine, foldable, foldedWeights, pointwise } from '../nn/fusion.js';
import { native, getThreads } from '../tensor/native.js';
import { conv2dParams } from '../tensor/ops.js';
import type { Tensor } from '../tensor/tensor.js';
import { weightsGeneration } from '../tensor/weights-generation.js';

/** Larger maps leave pixel pairs the kernel never joins, zeros the dense map would multiply. */
const MAX_PIXELS = 4;

export interface DenseLayerParts {
  norm1: BatchNorm2d; relu1: Module; conv1: Conv2d;
  norm2: BatchNorm2d; relu2: Module; conv2: Conv2d;
}

interface Prepared {
  generation: number;
  /** What was built from, so that replaced weights (or a refold) rebuild. */
  sources: (Float32Array | null)[];
  h: number; w: number;
  packed1: Float32Array;
  dense: Float32Array;
  bias2: Float32Array | null;
  packed2: Float32Array;
  /** Whether the packed buffers still have to be filled (the next call packs them). */
  fresh: boolean;
}

const prepared = new WeakMap<Conv2d, Prepared>();

/** conv1 pointwise; conv2 ungrouped, stride 1, zero-padded to keep an h × w map's size, that map within MAX_PIXELS and the kernel's taps. */
function takes({ conv1, conv2 }: DenseLayerParts, h: number, w: number): boolean {
  const [kh, kw] = conv2.kernelSize, [pt, pb, pl, pr] = conv2.pads, [dh, dw] = conv2.dilation;
  return h * w <= MAX_PIXELS && h * w <= kh * kw && conv2.groups === 1 && conv2.paddingMode === 'zeros' && !conv2.hasHooks() &&
    conv2.stride.every((s) => s === 1) && pt + pb === dh * (kh - 1) && pl + pr === dw * (kw - 1) &&
    conv1.groups === 1 && conv1.paddingMode === 'zeros' && pointwise(conv1);
}

function preparedFor(conv1: Conv2d, conv2: Conv2d, folded: Float32Array, h: number, w: number): Prepared {
  const sources = [folded, conv2.weight.data, conv2.bias ? conv2.bias.data : null];
  const cached = prepared.get(conv2);
  if (cached && cached.generation === weightsGeneration() && cached.h === h && cached.w === w && cached.sources.every((s, i) => s === sources[i])) return cached;
  const pixels = h * w, mid = conv2.inChannels, growth = conv2.outChannels;
  const p = conv2dParams([1, mid, h, w], conv2.weight.shape, { stride: conv2.stride, padding: conv2.pads, dilation: conv2.dilation, groups: 1 });
  const dense = new Float32Array(growth * pixels * pixels * mid);
  native.conv2dDenseMapWeightsByPixel(p, conv2.weight.data, dense, getThreads());
  let bias2: Float32Array | null = null;
  if (conv2.bias) {
    bias2 = new Float32Array(growth * pixels);
    for (let g = 0; g < growth; g++) bias2.fill(conv2.bias.data[g], g * pixels, (g + 1) * pixels);
  }
  const entry = {
    generation: weightsGeneration(), sources, h, w, dense, bias2, fresh: true,
    packed1: new Float32Array(native.linearChainPackedLength(mid, conv1.inChannels)),
    packed2: new Float32Array(native.linearChainPackedLength(growth * pixels, pixels * mid)),
  };
  prepared.set(conv2, entry);
  return entry;
}

/**
 * The layer on channels [0, channels) of features (n × total × h × w), its new channels written at
 * [channels, channels + conv2.outChannels); false, having done nothing, where it does not apply
 * (larger maps, another layer shape, training, a gradient to record, hooks).
 */
export function denseLayerSmallMaps(layer: DenseLayerParts, features: Tensor, channels: number): boolean {
  if (features.ndim !== 4) return false;
  const [n, total, h, w] = features.shape;
  const { norm1, relu1, conv1, norm2, relu2, conv2 } = layer;
  const inputClamp = activationClamp(relu1), clamp = activationClamp(relu2);
  if (!inputClamp || !clamp || conv1.inChannels !== channels || channels + conv2.outChannels > total || !takes(layer, h, w) ||
    !affineFoldable(norm1, relu1) || !foldable(conv1, norm2)) return false;
  const folded = foldedWeights(conv1, norm2), { scale, shift } = batchNormAffine(norm1);
  const p = preparedFor(conv1, conv2, folded.weight.data, h, w);
  const pixels = h * w, mid = conv1.outChannels;
  native.denseLayerSmallForward({
    n, channels, total, pixels, scale, shift, inputClamp,
    layers: [
      { inFeatures: channels, outFeatures: mid, weight: folded.weight.data, bias: folded.bias.data, clamp, packed: p.packed1, fresh: p.fresh },
      { inFeatures: pixels * mid, outFeatures: conv2.outChannels * pixels, weight: p.dense, bias: p.bias2, clamp: [-Infinity, Infinity], packed: p.packed2, fresh: p.fresh },
    ],
  }, features.data, getThreads());
  p.fresh = false;
  return true;
}
