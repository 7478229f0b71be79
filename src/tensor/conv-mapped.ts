// A pointwise convolution reading its input through eval's BatchNorm → ReLU (DenseNet's layers:
// norm1 → relu1 → conv1 on the block's features): each item of the by-image path maps its images
// as it copies them for its product (native/conv/conv_by_image.h), so the mapped input is never
// written out whole and read back.
import { native, getThreads } from './native.js';
import { Tensor, formatShape, isGradEnabled } from './tensor.js';
import { emptyFloat32 } from './storage.js';
import { conv2dParams } from './ops.js';
import { packedWeights } from './packed-weights.js';

/** How the input is read: clamp(x·scale[c] + shift[c], clamp[0], clamp[1]) over its first `channels` channels. */
export interface InputMap {
  channels: number;
  scale: Float32Array;
  shift: Float32Array;
  clamp?: [number, number];
}

/**
 * conv2d(map(x), w, b), clamped to `clamp`, for a pointwise w of one group; null, having done
 * nothing, where the by-image path does not take the layer (then map first, and convolve).
 * Inference only: it records no gradient.
 */
export function conv2dMapped(x: Tensor, map: InputMap, w: Tensor, b: Tensor | null, clamp?: [number, number]): Tensor | null {
  if (isGradEnabled() && [x, w, b].some((t) => t?.requiresGrad)) throw new RangeError('conv2dMapped: it records no gradient (run under noGrad, or on inputs without requiresGrad)');
  if (x.ndim !== 4 || !Number.isInteger(map.channels) || map.channels < 1 || map.channels > x.shape[1]) {
    throw new RangeError(`conv2dMapped: ${map.channels} leading channels of ${formatShape(x.shape)}`);
  }
  const [n, c, h, wd] = x.shape;
  const p = conv2dParams([n, map.channels, h, wd], w.shape, {});
  if (p.kh !== 1 || p.kw !== 1 || p.groups !== 1) return null;
  const y = emptyFloat32(n * p.cOut * h * wd);
  const packed = packedWeights(p, w, getThreads());
  const ran = native.conv2dMappedForward({ ...p, scale: map.scale, shift: map.shift, imageStride: c * h * wd, ...(map.clamp ? { inputClamp: map.clamp } : {}),
    ...(clamp ? { clamp } : {}), ...(packed ? { packed } : {}) }, x.data, w.data, b ? b.data : null, y, getThreads());
  return ran ? new Tensor(y, [n, p.cOut, h, wd]) : null;
}
