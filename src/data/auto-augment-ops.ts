// The TypeScript reference of native/augment/auto_augment.cc (tests only, through the transforms'
// apply()): the same op draws from the same generator, and torchvision's uint8-tensor arithmetic
// with every float32 step rounded by Math.fround where the kernel rounds it.
import type { Generator } from '../tensor/random.js';
import { roundHalfEven } from './functional.js';
import type { AutoAugmentOp, AutoAugmentOpName } from './auto-augment.js';

const f = Math.fround;
const toByte = (v: number) => Math.trunc(v < 0 ? 0 : v > 255 ? 255 : v);

/** The [op, magnitude] pairs one sample gets, drawn as aa_sample draws them. */
export function sampleAutoAugment(op: AutoAugmentOp, gen: Generator): [AutoAugmentOpName, number][] {
  if (op.mode === 'policy') {
    const steps = op.policies[gen.randint(op.policies.length)]!;
    const probs = steps.map(() => gen.random());
    const signs = steps.map(() => gen.randint(2));
    return steps.flatMap((s, i): [AutoAugmentOpName, number][] =>
      (probs[i]! <= s.p ? [[s.op, s.signed && signs[i] === 0 ? -s.magnitude : s.magnitude]] : []));
  }
  const rounds = op.mode === 'trivial' ? 1 : op.numOps;
  const out: [AutoAugmentOpName, number][] = [];
  for (let r = 0; r < rounds; r++) {
    const s = op.space[gen.randint(op.space.length)]!;
    let m = 0;
    if (s.magnitudes.length > 0) {
      if (op.mode === 'trivial') {
        m = s.magnitudes[gen.randint(s.magnitudes.length)]!;
      } else {
        let level = op.level;
        if (op.levelStd > 0) level = Math.min(op.levelMax, Math.max(0, level + op.levelStd * gen.normal()));
        m = magnitudeAt(s.magnitudes, level);
      }
    }
    if (s.signed && gen.randint(2) === 1) m = -m;
    out.push([s.op, m]);
  }
  return out;
}

function magnitudeAt(m: number[], level: number): number {
  const last = m.length - 1;
  if (level <= 0) return m[0]!;
  if (level >= last) return m[last]!;
  const i = Math.floor(level), frac = level - i;
  return frac === 0 ? m[i]! : m[i]! + (m[i + 1]! - m[i]!) * frac;
}

// torchvision's _get_inverse_affine_matrix with scale 1 (angles in degrees).
function inverseAffine(cx: number, cy: number, angle: number, tx: number, ty: number, shearX: number, shearY: number): number[] {
  const rad = Math.PI / 180;
  const rot = angle * rad, sx = shearX * rad, sy = shearY * rad;
  const a = Math.cos(rot - sy) / Math.cos(sy);
  const b = -Math.cos(rot - sy) * Math.tan(sx) / Math.cos(sy) - Math.sin(rot);
  const c = Math.sin(rot - sy) / Math.cos(sy);
  const d = -Math.sin(rot - sy) * Math.tan(sx) / Math.cos(sy) + Math.cos(rot);
  const m = [d, -b, 0, -c, a, 0];
  m[2] += m[0]! * (-cx - tx) + m[1]! * (-cy - ty);
  m[5] += m[3]! * (-cx - tx) + m[4]! * (-cy - ty);
  m[2] += cx;
  m[5] += cy;
  return m;
}

interface Sampling { bilinear: boolean; fill: number[] | null }

function affine(img: Uint8Array, c: number, h: number, w: number, matrix: number[], s: Sampling): Uint8Array {
  const theta = matrix.map(f);
  const hw = f(0.5 * w), hh = f(0.5 * h);
  const rx = [0, 1, 2].map((k) => f(theta[k]! / hw)), ry = [3, 4, 5].map((k) => f(theta[k]! / hh));
  const plane = h * w, out = new Uint8Array(img.length);
  for (let y = 0; y < h; y++) {
    const by = f(-h * 0.5 + 0.5 + y);
    for (let x = 0; x < w; x++) {
      const bx = f(-w * 0.5 + 0.5 + x);
      const gx = f(f(f(bx * rx[0]!) + f(by * rx[1]!)) + rx[2]!);
      const gy = f(f(f(bx * ry[0]!) + f(by * ry[1]!)) + ry[2]!);
      const ix = f(f(f(f(gx + 1) * w) - 1) / 2), iy = f(f(f(f(gy + 1) * h) - 1) / 2);
      const value = new Array<number>(c).fill(0);
      let mask = 0;
      const near = Math.abs(ix) < 2 ** 22 && Math.abs(iy) < 2 ** 22;
      if (!s.bilinear) {
        const sx = near ? roundHalfEven(ix) : -1, sy = near ? roundHalfEven(iy) : -1;
        if (sx >= 0 && sx < w && sy >= 0 && sy < h) {
          mask = 1;
          for (let ch = 0; ch < c; ch++) value[ch] = img[ch * plane + sy * w + sx]!;
        }
        if (s.fill && mask < 0.5) for (let ch = 0; ch < c; ch++) value[ch] = f(s.fill[ch]!);
      } else if (near) {
        const x0 = Math.floor(ix), y0 = Math.floor(iy), x1 = x0 + 1, y1 = y0 + 1;
        const wts = [f(f(x1 - ix) * f(y1 - iy)), f(f(ix - x0) * f(y1 - iy)), f(f(x1 - ix) * f(iy - y0)), f(f(ix - x0) * f(iy - y0))];
        const xs = [x0, x1, x0, x1], ys = [y0, y0, y1, y1];
        for (let k = 0; k < 4; k++) {
          if (xs[k]! < 0 || xs[k]! >= w || ys[k]! < 0 || ys[k]! >= h) continue;
          mask = f(mask + wts[k]!);
          for (let ch = 0; ch < c; ch++) value[ch] = f(value[ch]! + f(img[ch * plane + ys[k]! * w + xs[k]!]! * wts[k]!));
        }
      }
      if (s.bilinear && s.fill) for (let ch = 0; ch < c; ch++) value[ch] = f(f(value[ch]! * mask) + f(f(1 - mask) * f(s.fill[ch]!)));
      for (let ch = 0; ch < c; ch++) out[ch * plane + y * w + x] = Math.min(255, Math.max(0, roundHalfEven(value[ch]!)));
    }
  }
  return out;
}

// _blend for uint8: float32 products and sum, clamped, truncated.
function blend(img: Uint8Array, other: (i: number) => number, ratio: number): void {
  const r = f(ratio), q = f(1 - ratio);
  for (let i = 0; i < img.length; i++) img[i] = toByte(f(f(r * img[i]!) + f(q * other(i))));
}

const grayOf = (img: Uint8Array, plane: number, i: number) =>
  Math.trunc(f(f(f(f(0.2989) * img[i]!) + f(f(0.587) * img[plane + i]!)) + f(f(0.114) * img[2 * plane + i]!)));

function sharpness(img: Uint8Array, c: number, h: number, w: number, factor: number): void {
  if (h <= 2 || w <= 2) return;
  const edge = f(1 / 13), center = f(5 / 13), plane = h * w;
  const blurred = Uint8Array.from(img);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 1; y < h - 1; y++) {
      for (let x = 1; x < w - 1; x++) {
        let acc = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) acc = f(acc + f(img[ch * plane + (y + dy) * w + x + dx]! * (dy === 0 && dx === 0 ? center : edge)));
        }
        blurred[ch * plane + y * w + x] = roundHalfEven(acc);
      }
    }
  }
  blend(img, (i) => blurred[i]!, factor);
}

function equalize(img: Uint8Array, c: number, plane: number): void {
  for (let ch = 0; ch < c; ch++) {
    const p = img.subarray(ch * plane, (ch + 1) * plane);
    const hist = new Array<number>(256).fill(0);
    for (const v of p) hist[v]!++;
    const nonzero = hist.filter((n) => n > 0);
    const step = Math.floor((p.length - nonzero[nonzero.length - 1]!) / 255);
    if (step === 0) continue;
    const lut: number[] = [];
    let cum = 0;
    for (let v = 0; v < 256; v++) {
      lut.push(Math.min(255, Math.floor((cum + Math.floor(step / 2)) / step)));
      cum += hist[v]!;
    }
    for (let i = 0; i < p.length; i++) p[i] = lut[p[i]!]!;
  }
}

function autocontrast(img: Uint8Array, c: number, plane: number): void {
  for (let ch = 0; ch < c; ch++) {
    const p = img.subarray(ch * plane, (ch + 1) * plane);
    let lo = 255, hi = 0;
    for (const v of p) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    let scale = f(255 / (hi - lo));
    if (!Number.isFinite(scale)) { lo = 0; scale = 1; }
    for (let i = 0; i < p.length; i++) p[i] = toByte(f(f(p[i]! - lo) * scale));
  }
}

/** One op on a uint8 CHW image (1 or 3 channels), in place, as aa_apply. */
export function applyAutoAugmentOp(name: AutoAugmentOpName, magnitude: number, s: Sampling, img: Uint8Array, c: number, h: number, w: number): void {
  const plane = h * w;
  const degrees = (m: number) => Math.atan(m) * (180 / Math.PI);
  let matrix: number[] | null = null;
  switch (name) {
    case 'Identity': return;
    case 'ShearX': matrix = inverseAffine(-w * 0.5, -h * 0.5, 0, 0, 0, degrees(magnitude), 0); break;
    case 'ShearY': matrix = inverseAffine(-w * 0.5, -h * 0.5, 0, 0, 0, 0, degrees(magnitude)); break;
    case 'TranslateX': matrix = inverseAffine(0, 0, 0, Math.trunc(magnitude), 0, 0, 0); break;
    case 'TranslateY': matrix = inverseAffine(0, 0, 0, 0, Math.trunc(magnitude), 0, 0); break;
    case 'Rotate': matrix = inverseAffine(0, 0, -magnitude, 0, 0, 0, 0); break;
    case 'Brightness': blend(img, () => 0, 1 + magnitude); return;
    case 'Color': {
      if (c !== 3) return;
      const gray = Uint8Array.from({ length: plane }, (_, i) => grayOf(img, plane, i));
      blend(img, (i) => gray[i % plane]!, 1 + magnitude);
      return;
    }
    case 'Contrast': {
      let sum = 0;
      for (let i = 0; i < plane; i++) sum += c === 3 ? grayOf(img, plane, i) : img[i]!;
      const mean = f(f(sum) / f(plane));
      blend(img, () => mean, 1 + magnitude);
      return;
    }
    case 'Sharpness': sharpness(img, c, h, w, 1 + magnitude); return;
    case 'Posterize': {
      const bits = Math.min(8, Math.max(0, Math.trunc(magnitude)));
      const mask = -(1 << (8 - bits));
      for (let i = 0; i < img.length; i++) img[i] = img[i]! & mask;
      return;
    }
    case 'Solarize': {
      const t = f(magnitude);
      for (let i = 0; i < img.length; i++) if (img[i]! >= t) img[i] = 255 - img[i]!;
      return;
    }
    case 'AutoContrast': autocontrast(img, c, plane); return;
    case 'Equalize': equalize(img, c, plane); return;
    case 'Invert': for (let i = 0; i < img.length; i++) img[i] = 255 - img[i]!; return;
  }
  img.set(affine(img, c, h, w, matrix, s));
}
