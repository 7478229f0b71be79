// ConvNeXt's block tail in eval mode as one native call (native/conv/convnext_mlp.h): after the
// depthwise convolution, LayerNorm over the channels, Linear → GELU → Linear, the layer scale and
// the residual, per run of pixels in cache instead of seven passes over tensors in memory. An
// inference path: it records no gradient.
import { emptyFloat32 } from './storage.js';
import { native, getThreads, type ConvnextMlpLayers, type ConvnextMlpParams } from './native.js';
import { weightsGeneration } from './weights-generation.js';
import { Tensor, isGradEnabled, formatShape, sameShape } from './tensor.js';

export interface ConvnextMlpModules {
  ln: { weight: Tensor | null; bias: Tensor | null; eps: number };
  fc1: { weight: Tensor; bias: Tensor | null };
  fc2: { weight: Tensor; bias: Tensor | null };
  /** γ, c values (ConvNeXt's [c, 1, 1]), or null. */
  scale: Tensor | null;
}

const packs = new WeakMap<object, { generation: number; sources: (Float32Array | null)[]; data: Float32Array }>();
let packings = 0;

/** How many blocks' weights were folded and packed in this process (tests check that eval reuses them). */
export const convnextMlpPackCount = (): number => packings;

/** The folded, packed weights, cached under `key` while the weights are the same arrays of the same generation. */
function packed(key: object, p: ConvnextMlpParams, layers: ConvnextMlpLayers): Float32Array {
  const sources = [layers.lnWeight, layers.lnBias, layers.fc1Weight, layers.fc1Bias, layers.fc2Weight, layers.fc2Bias, layers.scale];
  const length = native.convnextMlpPackedFloats(p);
  const cached = packs.get(key);
  if (cached && cached.generation === weightsGeneration() && cached.data.length === length && cached.sources.every((s, i) => s === sources[i])) {
    return cached.data;
  }
  const data = cached && cached.data.length === length ? cached.data : new Float32Array(length);
  native.convnextMlpPack(p, layers, data);
  packings++;
  packs.set(key, { generation: weightsGeneration(), sources, data });
  return data;
}

/** x + γ ⊙ fc2(GELU(fc1(LayerNorm_C(d)))) per pixel, d and x of one NCHW shape; cacheKey: an object under which the packed weights are kept. */
export function convnextMlp(d: Tensor, x: Tensor, m: ConvnextMlpModules, cacheKey?: object): Tensor {
  const tensors = [d, x, m.ln.weight, m.ln.bias, m.fc1.weight, m.fc1.bias, m.fc2.weight, m.fc2.bias, m.scale];
  if (isGradEnabled() && tensors.some((t) => t?.requiresGrad)) {
    throw new RangeError('convnextMlp: an inference path; it records no gradient (noGrad, or inputs without requiresGrad)');
  }
  if (d.ndim !== 4 || !sameShape(d.shape, x.shape)) {
    throw new RangeError(`convnextMlp: expected two 4-D tensors of one shape but got ${formatShape(d.shape)} and ${formatShape(x.shape)}`);
  }
  const [n, c, h, w] = d.shape, hidden = m.fc1.weight.shape[0];
  const expect = (t: Tensor | null, shape: number[], what: string) => {
    if (t && t.size !== shape.reduce((a, b) => a * b, 1)) throw new RangeError(`convnextMlp: ${what} ${formatShape(t.shape)} does not fit ${c} channels and ${hidden} hidden`);
  };
  expect(m.fc1.weight, [hidden, c], 'fc1 weight');
  expect(m.fc2.weight, [c, hidden], 'fc2 weight');
  for (const [t, what] of [[m.ln.weight, 'LayerNorm weight'], [m.ln.bias, 'LayerNorm bias'], [m.fc2.bias, 'fc2 bias'], [m.scale, 'layer scale']] as const) expect(t, [c], what);
  expect(m.fc1.bias, [hidden], 'fc1 bias');
  const p = { n, c, hidden, pixels: h * w, eps: m.ln.eps };
  const layers: ConvnextMlpLayers = {
    lnWeight: m.ln.weight?.data ?? null, lnBias: m.ln.bias?.data ?? null, fc1Weight: m.fc1.weight.data, fc1Bias: m.fc1.bias?.data ?? null,
    fc2Weight: m.fc2.weight.data, fc2Bias: m.fc2.bias?.data ?? null, scale: m.scale?.data ?? null,
  };
  if (cacheKey) layers.packed = packed(cacheKey, p, layers);
  const y = emptyFloat32(d.size);
  native.convnextMlpForward(p, layers, d.data, x.data, y, getThreads());
  return new Tensor(y, d.shape);
}
