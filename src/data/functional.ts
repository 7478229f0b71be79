// Deterministic image functions with torchvision.transforms.functional semantics on float
// tensors (CHW in [0,1]). The random transforms call these with drawn parameters; the tests
// compare them with torchvision. This is the reference the native augmenter is checked against
// (native/augment/augment.cc mirrors each function).
import { emptyImage, type FloatImage } from './image.js';

export type PaddingMode = 'constant' | 'edge' | 'reflect' | 'symmetric';
export const PADDING_MODES: readonly PaddingMode[] = ['constant', 'edge', 'reflect', 'symmetric'];

/** int, [left/right, top/bottom] or [left, top, right, bottom], as torchvision's pad. */
export type Padding = number | readonly [number, number] | readonly [number, number, number, number];

/** A fill value: one for every channel, or one per channel. */
export type Fill = number | readonly number[];

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export function fillPerChannel(fill: Fill, channels: number, what = 'fill'): number[] {
  if (typeof fill === 'number') return new Array<number>(channels).fill(fill);
  if (fill.length === 1) return new Array<number>(channels).fill(fill[0]);
  if (fill.length !== channels) {
    throw new RangeError(`${what} has ${fill.length} values but the image has ${channels} channels`);
  }
  return [...fill];
}

/** [left, top, right, bottom] from torchvision's padding forms. */
export function paddingLTRB(padding: Padding): [number, number, number, number] {
  const p = typeof padding === 'number' ? [padding, padding, padding, padding]
    : padding.length === 2 ? [padding[0], padding[1], padding[0], padding[1]]
      : padding.length === 4 ? [...padding] : null;
  if (p === null) throw new RangeError(`padding must be a number or an array of 2 or 4 numbers but has ${(padding as readonly number[]).length}`);
  if (p.some((v) => !Number.isInteger(v) || v < 0)) throw new RangeError(`padding must hold non-negative integers but is [${p.join(', ')}]`);
  return p as [number, number, number, number];
}

/** Source index of padded position i for extent n, or -1 for the fill value. */
export function mapPadIndex(i: number, n: number, mode: PaddingMode): number {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case 'constant': return -1;
    case 'edge': return i < 0 ? 0 : n - 1;
    case 'reflect': {
      if (n === 1) return 0;
      const period = 2 * n - 2;
      const k = ((i % period) + period) % period;
      return k >= n ? period - k : k;
    }
    case 'symmetric': {
      const period = 2 * n;
      const k = ((i % period) + period) % period;
      return k >= n ? period - 1 - k : k;
    }
  }
}

/** out(y, x) = padded(top + y, left + x), where padded has padTop rows and padLeft columns before img. */
function padCrop(img: FloatImage, padTop: number, padLeft: number, mode: PaddingMode, fill: readonly number[],
  top: number, left: number, height: number, width: number): FloatImage {
  const out = emptyImage(img.channels, height, width);
  const cols = Array.from({ length: width }, (_, x) => mapPadIndex(left + x - padLeft, img.width, mode));
  for (let c = 0; c < img.channels; c++) {
    for (let y = 0; y < height; y++) {
      const sy = mapPadIndex(top + y - padTop, img.height, mode);
      for (let x = 0; x < width; x++) {
        out.data[(c * height + y) * width + x] = sy < 0 || cols[x] < 0 ? fill[c]
          : img.data[(c * img.height + sy) * img.width + cols[x]];
      }
    }
  }
  return out;
}

/** torchvision pad: fill (image units, [0,1] here) is used by 'constant' only. */
export function pad(img: FloatImage, padding: Padding, fill: Fill = 0, mode: PaddingMode = 'constant'): FloatImage {
  const [l, t, r, b] = paddingLTRB(padding);
  return padCrop(img, t, l, mode, fillPerChannel(fill, img.channels), 0, 0, img.height + t + b, img.width + l + r);
}

/** torchvision crop on tensors: the region may leave the image, which reads as zeros. */
export function crop(img: FloatImage, top: number, left: number, height: number, width: number): FloatImage {
  return padCrop(img, 0, 0, 'constant', fillPerChannel(0, img.channels), top, left, height, width);
}

/** torchvision center_crop: zero-pads first when the crop is larger than the image. */
export function centerCrop(img: FloatImage, height: number, width: number): FloatImage {
  const padTop = height > img.height ? Math.floor((height - img.height) / 2) : 0;
  const padLeft = width > img.width ? Math.floor((width - img.width) / 2) : 0;
  const h = Math.max(height, img.height), w = Math.max(width, img.width);
  const top = roundHalfEven((h - height) / 2), left = roundHalfEven((w - width) / 2);
  return padCrop(img, padTop, padLeft, 'constant', fillPerChannel(0, img.channels), top, left, height, width);
}

export function hflip(img: FloatImage): FloatImage {
  const out = emptyImage(img.channels, img.height, img.width);
  const w = img.width;
  for (let r = 0; r < img.channels * img.height; r++) {
    for (let x = 0; x < w; x++) out.data[r * w + x] = img.data[r * w + w - 1 - x];
  }
  return out;
}

export function vflip(img: FloatImage): FloatImage {
  const out = emptyImage(img.channels, img.height, img.width);
  const { height: h, width: w } = img;
  for (let c = 0; c < img.channels; c++) {
    for (let y = 0; y < h; y++) {
      out.data.set(img.data.subarray((c * h + h - 1 - y) * w, (c * h + h - y) * w), (c * h + y) * w);
    }
  }
  return out;
}

interface Taps { start: number[]; weights: number[][] }

// Antialiased bilinear taps (PIL, torch interpolate antialias=True): a triangle filter
// widened by the downscale factor; plain bilinear with edge clamping when upscaling.
function bilinearTaps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const support = scale >= 1 ? scale : 1;
  const invscale = scale >= 1 ? 1 / scale : 1;
  const maxSize = Math.ceil(support) * 2 + 1;
  const start: number[] = [], weights: number[][] = [];
  for (let i = 0; i < outSize; i++) {
    const center = scale * (i + 0.5);
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
    const n = Math.min(xmax - xmin, maxSize);
    const w: number[] = [];
    let total = 0;
    for (let j = 0; j < n; j++) {
      const x = Math.abs((j + xmin - center + 0.5) * invscale);
      w.push(x < 1 ? 1 - x : 0);
      total += w[j];
    }
    if (total !== 0) for (let j = 0; j < n; j++) w[j] /= total;
    start.push(xmin);
    weights.push(w);
  }
  return { start, weights };
}

/** Bilinear resize to height × width with antialiasing (PIL's result, torchvision antialias=True). */
export function resize(img: FloatImage, height: number, width: number): FloatImage {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new RangeError(`resize needs a positive integer size but received ${height}x${width}`);
  }
  const tx = bilinearTaps(img.width, width), ty = bilinearTaps(img.height, height);
  const mid = new Float32Array(img.channels * img.height * width);
  for (let c = 0; c < img.channels; c++) {
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < width; x++) {
        const w = tx.weights[x], base = (c * img.height + y) * img.width + tx.start[x];
        let acc = 0;
        for (let j = 0; j < w.length; j++) acc += w[j] * img.data[base + j];
        mid[(c * img.height + y) * width + x] = acc;
      }
    }
  }
  const out = emptyImage(img.channels, height, width);
  for (let c = 0; c < img.channels; c++) {
    for (let y = 0; y < height; y++) {
      const w = ty.weights[y];
      for (let x = 0; x < width; x++) {
        let acc = 0;
        for (let j = 0; j < w.length; j++) acc += w[j] * mid[(c * img.height + ty.start[y] + j) * width + x];
        out.data[(c * height + y) * width + x] = acc;
      }
    }
  }
  return out;
}

/** torchvision resized_crop: crop, then bilinear resize. */
export function resizedCrop(img: FloatImage, top: number, left: number, height: number, width: number,
  outHeight: number, outWidth: number): FloatImage {
  return resize(crop(img, top, left, height, width), outHeight, outWidth);
}

export type Interpolation = 'nearest' | 'bilinear';

/**
 * torchvision rotate on tensors (expand=False): counter-clockwise by `angle` degrees about the
 * image center; pixels whose source falls outside get `fill` (image units).
 */
export function rotate(img: FloatImage, angle: number, opts: { interpolation?: Interpolation; fill?: Fill } = {}): FloatImage {
  const interpolation = opts.interpolation ?? 'nearest';
  const fill = fillPerChannel(opts.fill ?? 0, img.channels);
  const { channels: C, height: h, width: w } = img;
  const out = emptyImage(C, h, w);
  const r = -angle * Math.PI / 180;
  const cs = Math.cos(r), sn = Math.sin(r);
  const cx = (w - 1) * 0.5, cy = (h - 1) * 0.5;
  const plane = h * w;
  for (let y = 0; y < h; y++) {
    const yc = y - cy;
    for (let x = 0; x < w; x++) {
      const xc = x - cx;
      const ix = cs * xc + sn * yc + cx;
      const iy = -sn * xc + cs * yc + cy;
      const o = y * w + x;
      if (interpolation === 'nearest') {
        const sx = roundHalfEven(ix), sy = roundHalfEven(iy);
        const inside = sx >= 0 && sx < w && sy >= 0 && sy < h;
        for (let c = 0; c < C; c++) out.data[c * plane + o] = inside ? img.data[c * plane + sy * w + sx] : fill[c];
        continue;
      }
      const x0 = Math.floor(ix), y0 = Math.floor(iy);
      const fx = ix - x0, fy = iy - y0;
      let mask = 0;
      const acc = new Array<number>(C).fill(0);
      for (const [yy, wy] of [[y0, 1 - fy], [y0 + 1, fy]]) {
        for (const [xx, wx] of [[x0, 1 - fx], [x0 + 1, fx]]) {
          if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
          mask += wy * wx;
          for (let c = 0; c < C; c++) acc[c] += wy * wx * img.data[c * plane + yy * w + xx];
        }
      }
      // torchvision blends the zero-padded sample with the fill by the sampled mask.
      for (let c = 0; c < C; c++) out.data[c * plane + o] = acc[c] * mask + (1 - mask) * fill[c];
    }
  }
  return out;
}

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);
const f32 = Math.fround;

function grayAt(d: Float32Array, plane: number, i: number): number {
  return f32(f32(f32(0.2989 * d[i]) + f32(0.587 * d[plane + i])) + f32(0.114 * d[2 * plane + i]));
}

function assertColorChannels(img: FloatImage, what: string): void {
  if (img.channels !== 1 && img.channels !== 3) {
    throw new RangeError(`${what} needs an image with 1 or 3 channels but it has ${img.channels}`);
  }
}

/** torchvision rgb_to_grayscale (0.2989 R + 0.587 G + 0.114 B), repeated to numOutputChannels. */
export function rgbToGrayscale(img: FloatImage, numOutputChannels: 1 | 3 = 1): FloatImage {
  assertColorChannels(img, 'rgbToGrayscale');
  const plane = img.height * img.width;
  const out = emptyImage(numOutputChannels, img.height, img.width);
  for (let i = 0; i < plane; i++) {
    const g = img.channels === 3 ? grayAt(img.data, plane, i) : img.data[i];
    for (let c = 0; c < numOutputChannels; c++) out.data[c * plane + i] = g;
  }
  return out;
}

function mapPixels(img: FloatImage, fn: (v: number) => number): FloatImage {
  const out = emptyImage(img.channels, img.height, img.width);
  for (let i = 0; i < img.data.length; i++) out.data[i] = fn(img.data[i]);
  return out;
}

function checkFactor(f: number, what: string): void {
  if (!Number.isFinite(f) || f < 0) throw new RangeError(`${what} must be a non-negative number but is ${f}`);
}

/** clamp(f·img, 0, 1). */
export function adjustBrightness(img: FloatImage, factor: number): FloatImage {
  checkFactor(factor, 'brightness factor');
  const f = f32(factor);
  return mapPixels(img, (v) => clamp01(f * v));
}

/** Blend with the mean of the grayscale image: clamp(f·img + (1-f)·mean, 0, 1). */
export function adjustContrast(img: FloatImage, factor: number): FloatImage {
  checkFactor(factor, 'contrast factor');
  assertColorChannels(img, 'adjustContrast');
  const plane = img.height * img.width;
  let sum = 0;
  for (let i = 0; i < plane; i++) sum += img.channels === 3 ? grayAt(img.data, plane, i) : img.data[i];
  const mean = f32(sum / plane), f = f32(factor);
  return mapPixels(img, (v) => clamp01(f * v + (1 - f) * mean));
}

/** Blend with the grayscale image; a 1-channel image is returned unchanged, as torchvision. */
export function adjustSaturation(img: FloatImage, factor: number): FloatImage {
  checkFactor(factor, 'saturation factor');
  assertColorChannels(img, 'adjustSaturation');
  if (img.channels === 1) return mapPixels(img, (v) => v);
  const plane = img.height * img.width, f = f32(factor);
  const out = emptyImage(3, img.height, img.width);
  for (let i = 0; i < plane; i++) {
    const g = grayAt(img.data, plane, i);
    for (let c = 0; c < 3; c++) out.data[c * plane + i] = clamp01(f * img.data[c * plane + i] + (1 - f) * g);
  }
  return out;
}

/** Shift the hue by factor ∈ [-0.5, 0.5] through HSV (torchvision's _rgb2hsv/_hsv2rgb). */
export function adjustHue(img: FloatImage, factor: number): FloatImage {
  if (!(factor >= -0.5 && factor <= 0.5)) throw new RangeError(`hue factor must be in [-0.5, 0.5] but is ${factor}`);
  assertColorChannels(img, 'adjustHue');
  if (img.channels === 1) return mapPixels(img, (v) => v);
  const plane = img.height * img.width, d = img.data;
  const out = emptyImage(3, img.height, img.width);
  for (let i = 0; i < plane; i++) {
    const r = d[i], g = d[plane + i], b = d[2 * plane + i];
    const maxc = Math.max(r, g, b), minc = Math.min(r, g, b);
    const eqc = maxc === minc;
    const cr = maxc - minc;
    const s = cr / (eqc ? 1 : maxc);
    const div = eqc ? 1 : cr;
    const rc = (maxc - r) / div, gc = (maxc - g) / div, bc = (maxc - b) / div;
    let h = maxc === r ? bc - gc : maxc === g ? 2 + rc - bc : 4 + gc - rc;
    h = (h / 6 + 1) % 1;
    h += f32(factor);
    h -= Math.floor(h);
    const v = maxc;
    const i6 = Math.floor(h * 6), fr = h * 6 - i6;
    const p = clamp01(v * (1 - s)), q = clamp01(v * (1 - s * fr)), t = clamp01(v * (1 - s * (1 - fr)));
    const rgb = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][((i6 % 6) + 6) % 6];
    for (let c = 0; c < 3; c++) out.data[c * plane + i] = rgb[c];
  }
  return out;
}

/** (img - mean) / std per channel; one value broadcasts to every channel. */
export function normalize(img: FloatImage, mean: readonly number[], std: readonly number[]): FloatImage {
  const m = fillPerChannel(mean, img.channels, 'mean').map(f32), s = fillPerChannel(std, img.channels, 'std').map(f32);
  if (s.some((v) => v === 0)) throw new RangeError('std must not contain 0');
  const plane = img.height * img.width;
  const out = emptyImage(img.channels, img.height, img.width);
  for (let c = 0; c < img.channels; c++) {
    for (let i = 0; i < plane; i++) out.data[c * plane + i] = (img.data[c * plane + i] - m[c]) / s[c];
  }
  return out;
}

/** torchvision erase: the box [top, top+h) × [left, left+w) takes value (per channel, or c·h·w values). */
export function erase(img: FloatImage, top: number, left: number, height: number, width: number,
  value: Fill | Float32Array): FloatImage {
  const out = { ...img, data: img.data.slice() };
  const per = value instanceof Float32Array ? null : fillPerChannel(value, img.channels, 'value');
  if (value instanceof Float32Array && value.length !== img.channels * height * width) {
    throw new RangeError(`erase needs ${img.channels * height * width} values but received ${value.length}`);
  }
  for (let c = 0; c < img.channels; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        out.data[(c * img.height + top + y) * img.width + left + x] =
          per ? per[c] : (value as Float32Array)[(c * height + y) * width + x];
      }
    }
  }
  return out;
}
