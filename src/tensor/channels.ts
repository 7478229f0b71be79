// Channel ops the newer CNNs need, in the addon (native/eltwise/channels): a per-channel scale
// (squeeze-and-excitation, ConvNeXt's layer scale), concatenation (DenseNet) and the
// NCHW <-> NHWC permutes of ConvNeXt's blocks.
import { emptyFloat32, zeroFloat32 } from './storage.js';
import { native, getThreads } from './native.js';
import { record } from './ops.js';
import { Tensor, formatShape, isGradEnabled } from './tensor.js';
import { normalizeDim } from './activation.js';

/**
 * x (N, C, ...) times s of shape (N, C, 1, ...) (one factor per sample and channel, as SE's
 * gate) or (C, 1, ...) (one per channel, as layer scale): PyTorch's broadcasting multiply for
 * those two shapes.
 */
export function channelScale(x: Tensor, s: Tensor): Tensor {
  if (x.ndim < 2) throw new RangeError(`channelScale: expected an input (N, C, ...) but got ${formatShape(x.shape)}`);
  const [n, c] = x.shape;
  const ones = (shape: readonly number[]) => shape.every((d) => d === 1);
  let perSample: boolean;
  if (s.ndim === x.ndim && s.shape[0] === n && s.shape[1] === c && ones(s.shape.slice(2))) perSample = true;
  else if (s.ndim === x.ndim - 1 && s.shape[0] === c && ones(s.shape.slice(1))) perSample = false;
  else throw new RangeError(`channelScale: factors ${formatShape(s.shape)} are neither [N, C, 1, ...] nor [C, 1, ...] for input ${formatShape(x.shape)}`);
  const inner = n * c === 0 ? 0 : x.size / (n * c);
  const extents = { outer: n, c, inner, perSample };
  const y = emptyFloat32(x.size);
  if (x.size > 0) native.channelScaleForward({ x: x.data, s: s.data, y, ...extents }, getThreads());
  return record(new Tensor(y, x.shape), 'channelScale', [x, s], (g) => {
    const dx = x.requiresGrad ? emptyFloat32(x.size) : null;
    const ds = s.requiresGrad ? zeroFloat32(s.size) : null;
    if (x.size > 0) native.channelScaleBackward({ x: x.data, s: s.data, dy: g.data, dx, ds, ...extents }, getThreads());
    return [dx ? new Tensor(dx, x.shape) : null, ds ? new Tensor(ds, s.shape) : null];
  });
}

/** Joins tensors along dim (negative counts from the end); all other extents must agree, as torch.cat. */
export function cat(list: readonly Tensor[], dim = 0): Tensor {
  const tensors = [...list];  // the caller may grow its list afterwards (DenseNet does)
  if (tensors.length === 0) throw new RangeError('cat: expected a non-empty list of tensors');
  const first = tensors[0];
  const axis = normalizeDim(dim, first.ndim, 'cat');
  for (const t of tensors) {
    if (t.ndim !== first.ndim || t.shape.some((d, i) => i !== axis && d !== first.shape[i])) {
      throw new RangeError(`cat: Sizes of tensors must match except in dimension ${axis}; got ${formatShape(first.shape)} and ${formatShape(t.shape)}`);
    }
  }
  const outer = first.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = first.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const total = tensors.reduce((a, t) => a + t.shape[axis], 0);
  const shape = [...first.shape];
  shape[axis] = total;
  const out = emptyFloat32(outer * total * inner);
  const rowOut = total * inner;
  const offsets: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    offsets.push(offset);
    const block = t.shape[axis] * inner;
    native.copyRows({ srcOffset: 0, srcStride: block, dstOffset: offset, dstStride: rowOut, block, count: outer }, t.data, out, getThreads());
    offset += block;
  }
  return record(new Tensor(out, shape), 'cat', tensors, (g) => tensors.map((t, k) => {
    if (!t.requiresGrad) return null;
    const block = t.shape[axis] * inner;
    const dx = emptyFloat32(t.size);
    native.copyRows({ srcOffset: offsets[k], srcStride: rowOut, dstOffset: 0, dstStride: block, block, count: outer }, g.data, dx, getThreads());
    return new Tensor(dx, t.shape);
  }));
}

/**
 * clamp(x[:, :channels]·scale[c] + shift[c]) for x (N, C, ...), scale and shift one per channel
 * taken: eval BatchNorm (→ ReLU) over the leading channels of a DenseNet block's features, in one
 * pass. Inference only: it records no gradient.
 */
export function leadingChannelsAffine(x: Tensor, channels: number, scale: Float32Array, shift: Float32Array, clamp?: [number, number]): Tensor {
  if (x.ndim < 2) throw new RangeError(`leadingChannelsAffine: expected an input (N, C, ...) but got ${formatShape(x.shape)}`);
  if (x.requiresGrad && isGradEnabled()) throw new RangeError('leadingChannelsAffine: it records no gradient (run under noGrad, or on an input without requiresGrad)');
  if (!Number.isInteger(channels) || channels < 0 || channels > x.shape[1]) throw new RangeError(`leadingChannelsAffine: ${channels} leading channels of ${x.shape[1]}`);
  if (scale.length !== channels || shift.length !== channels) throw new RangeError(`leadingChannelsAffine: ${channels} channels but ${scale.length} scales and ${shift.length} shifts`);
  const n = x.shape[0], inner = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const out = emptyFloat32(n * channels * inner);
  if (channels > 0 && inner > 0) {
    native.copyRowsAffine({ srcOffset: 0, srcStride: x.shape[1] * inner, dstOffset: 0, dstStride: channels * inner, channels, inner, count: n, ...(clamp ? { clamp } : {}) },
      x.data, out, scale, shift, getThreads());
  }
  return new Tensor(out, [n, channels, ...x.shape.slice(2)]);
}

/**
 * AvgPool2d(2) of clamp(x·scale[c] + shift[c]) for x (N, C, H, W), in one pass (eval's BatchNorm →
 * ReLU → average pool; DenseNet's transitions pool before their 1×1 convolution). Records nothing.
 */
export function affineAvgPool2x2(x: Tensor, scale: Float32Array, shift: Float32Array, clamp?: [number, number]): Tensor {
  if (x.ndim !== 4 || x.shape[2] < 2 || x.shape[3] < 2) throw new RangeError(`affineAvgPool2x2: expected an input (N, C, H >= 2, W >= 2) but got ${formatShape(x.shape)}`);
  if (x.requiresGrad && isGradEnabled()) throw new RangeError('affineAvgPool2x2: it records no gradient (run under noGrad, or on an input without requiresGrad)');
  const [n, c, h, w] = x.shape;
  if (scale.length !== c || shift.length !== c) throw new RangeError(`affineAvgPool2x2: ${c} channels but ${scale.length} scales and ${shift.length} shifts`);
  const out = emptyFloat32(n * c * (h >> 1) * (w >> 1));
  native.affineAvgPool2x2({ count: n, channels: c, h, w, ...(clamp ? { clamp } : {}) }, x.data, scale, shift, out, getThreads());
  return new Tensor(out, [n, c, h >> 1, w >> 1]);
}

/** Copies x (N, C_x, ...) into channels [at, at + C_x) of into (N, C, ...), in place: a DenseNet block's features in eval. Records nothing. */
export function writeChannels(into: Tensor, x: Tensor, at: number): void {
  if (x.ndim !== into.ndim || x.ndim < 2 || x.shape.some((d, i) => i !== 1 && d !== into.shape[i]) || !Number.isInteger(at) || at < 0 || at + x.shape[1] > into.shape[1]) {
    throw new RangeError(`writeChannels: ${formatShape(x.shape)} does not fit ${formatShape(into.shape)} from channel ${at}`);
  }
  const inner = x.shape.slice(2).reduce((a, b) => a * b, 1), block = x.shape[1] * inner;
  if (block > 0) native.copyRows({ srcOffset: 0, srcStride: block, dstOffset: at * inner, dstStride: into.shape[1] * inner, block, count: x.shape[0] }, x.data, into.data, getThreads());
}

/**
 * x.permute(dims) for the permutations that keep a leading run of axes and swap the two blocks
 * after it (e.g. [0, 2, 3, 1]: NCHW -> NHWC and [0, 3, 1, 2] back); the result is contiguous.
 */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const nd = x.ndim;
  if (dims.length !== nd) throw new RangeError(`permute: number of dims don't match in permute (input ${formatShape(x.shape)}, dims [${dims.join(', ')}])`);
  const axes = dims.map((d) => normalizeDim(d, nd, 'permute'));
  if (new Set(axes).size !== nd) throw new RangeError(`permute: repeated dim in [${dims.join(', ')}]`);
  let lead = 0;
  while (lead < nd && axes[lead] === lead) lead++;
  if (lead === nd) return record(new Tensor(x.data, x.shape), 'permute', [x], (g) => [g]);
  // After the lead, axes must read split..nd-1 then lead..split-1.
  const split = axes[lead];
  const rest = axes.slice(lead);
  const expected = [...Array(nd - split).keys()].map((i) => split + i).concat([...Array(split - lead).keys()].map((i) => lead + i));
  if (rest.some((a, i) => a !== expected[i])) throw new RangeError(`permute: [${dims.join(', ')}] is not a swap of two trailing blocks of axes, the only permutations supported`);
  const size = (from: number, to: number) => x.shape.slice(from, to).reduce((a, b) => a * b, 1);
  const batch = size(0, lead), rows = size(lead, split), cols = size(split, nd);
  const shape = axes.map((a) => x.shape[a]);
  const y = emptyFloat32(x.size);
  native.transposeBatched(x.data, batch, rows, cols, y, getThreads());
  return record(new Tensor(y, shape), 'permute', [x], (g) => {
    const dx = emptyFloat32(x.size);
    native.transposeBatched(g.data, batch, cols, rows, dx, getThreads());
    return [new Tensor(dx, x.shape)];
  });
}
