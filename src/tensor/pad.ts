// Differentiable padding of the last two axes, as torch.nn.functional.pad with a 4-element pad
// on a 3-D (C, H, W) or 4-D (N, C, H, W) tensor.
import { emptyFloat32 } from './storage.js';
import { native, getThreads, type PadMode } from './native.js';
import { record } from './ops.js';
import { Tensor, formatShape } from './tensor.js';

/** [left, right, top, bottom], PyTorch's order for the last two axes. */
export type Pad2dPadding = [number, number, number, number];

const MODES: readonly PadMode[] = ['zeros', 'reflect', 'replicate', 'circular'];

/**
 * F.pad(x, [left, right, top, bottom], mode, value); mode 'zeros' is PyTorch's 'constant' (filled
 * with value). Reflect needs each pad < the dimension it pads, circular <= it. Negative (cropping)
 * pads are not supported.
 */
export function pad2d(x: Tensor, pad: Pad2dPadding, mode: PadMode = 'zeros', value = 0): Tensor {
  const op = 'pad2d';
  if (!MODES.includes(mode)) {
    throw new RangeError(`${op}: unknown padding mode '${String(mode)}' (expected ${MODES.join(', ')})`);
  }
  if (x.ndim !== 3 && x.ndim !== 4) {
    throw new RangeError(`${op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input but got shape ${formatShape(x.shape)}`);
  }
  if (!Array.isArray(pad) || pad.length !== 4 || !pad.every((p) => Number.isInteger(p))) {
    throw new TypeError(`${op}: pad must be four integers [left, right, top, bottom] but got ${JSON.stringify(pad)}`);
  }
  if (pad.some((p) => p < 0)) {
    throw new RangeError(`${op}: negative padding [${pad.join(', ')}] is not supported`);
  }
  if (typeof value !== 'number') {
    throw new TypeError(`${op}: value must be a number`);
  }
  const [left, right, top, bottom] = pad;
  const h = x.shape[x.ndim - 2], w = x.shape[x.ndim - 1];
  const planes = x.shape.slice(0, -2).reduce((a, b) => a * b, 1);
  if (mode === 'reflect') {
    // PyTorch names the dimension it checks (W first, as F.pad lists it).
    if (left >= w || right >= w) {
      throw new RangeError(`${op}: Padding size should be less than the corresponding input dimension, but got: padding (${left}, ${right}) at dimension ${x.ndim - 1} of input ${formatShape(x.shape)}`);
    }
    if (top >= h || bottom >= h) {
      throw new RangeError(`${op}: Padding size should be less than the corresponding input dimension, but got: padding (${top}, ${bottom}) at dimension ${x.ndim - 2} of input ${formatShape(x.shape)}`);
    }
  } else if (mode === 'circular') {
    if (left > w || right > w || top > h || bottom > h) {
      throw new RangeError(`${op}: Padding value causes wrapping around more than once (padding [${pad.join(', ')}] for input ${formatShape(x.shape)})`);
    }
  }
  if (mode !== 'zeros' && (h === 0 || w === 0)) {
    throw new RangeError(`${op}: ${mode} padding needs a non-empty input but got shape ${formatShape(x.shape)}`);
  }
  const outShape = [...x.shape.slice(0, -2), h + top + bottom, w + left + right];
  const y = emptyFloat32(planes * (h + top + bottom) * (w + left + right));
  const p = { mode, planes, h, w, left, right, top, bottom };
  native.pad2dForward(p, value, x.data, y, getThreads());
  return record(new Tensor(y, outShape), op, [x], (g) => {
    const dx = emptyFloat32(x.size);
    native.pad2dBackward(p, g.data, dx, getThreads());
    return [new Tensor(dx, x.shape)];
  });
}
