// Weights trained on RGB for a model with another number of input channels: the first
// convolution's filters are adapted as timm's adapt_input_conv does (1 channel: the sum of the
// three RGB filters, which gives a gray image the response the RGB image had; more channels: the
// RGB filters repeated and scaled by 3/C). Every other tensor is left as it is.
import { Tensor } from '../tensor/tensor.js';
import type { Module } from './module.js';
import { Conv2d } from './conv.js';

export interface AdaptedInput {
  tensors: Map<string, Tensor>;
  /** What was changed, for the start line; null when nothing needed adapting. */
  note: string | null;
}

export function adaptInputConv(model: Module, tensors: ReadonlyMap<string, Tensor>): AdaptedInput {
  const first = [...model.namedModules()].find(([, m]) => m instanceof Conv2d);
  const out = new Map(tensors);
  if (!first) return { tensors: out, note: null };
  const [path, conv] = first as [string, Conv2d];
  const key = path ? `${path}.weight` : 'weight';
  const w = tensors.get(key);
  const target = conv.weight.shape;
  if (!w || w.ndim !== 4 || w.shape[1] !== 3 || target[1] === 3 || conv.groups !== 1
    || w.shape[0] !== target[0] || w.shape[2] !== target[2] || w.shape[3] !== target[3]) {
    return { tensors: out, note: null };
  }
  const [o, , kh, kw] = w.shape;
  const c = target[1];
  const plane = kh * kw;
  const data = new Float32Array(o * c * plane);
  for (let f = 0; f < o; f++) {
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < plane; i++) {
        if (c === 1) {
          const src = f * 3 * plane + i;
          data[f * plane + i] = Math.fround(w.data[src] + w.data[src + plane]) + w.data[src + 2 * plane]; // float32 sums, as torch's
        } else {
          data[(f * c + ch) * plane + i] = w.data[(f * 3 + (ch % 3)) * plane + i] * (3 / c);
        }
      }
    }
  }
  out.set(key, new Tensor(data, target));
  const how = c === 1 ? 'the 3 RGB filters summed into 1 channel' : `the 3 RGB filters repeated to ${c} channels and scaled by 3/${c}`;
  return { tensors: out, note: `${key}: ${how} (timm's adapt_input_conv)` };
}
