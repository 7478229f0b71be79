// --mixup / --cutmix: timm's Mixup in 'batch' mode. Per batch, with probability mixProb, λ is
// drawn from Beta(α, α) (cutmix's α with probability switchProb when both are on) and the batch
// is mixed with itself reversed (x.flip(0)): mixup blends whole images, cutmix pastes a box of
// timm's rand_bbox and corrects λ to the box's clipped area. The targets become timm's
// mixup_target (one-hot with label smoothing, blended by λ) for softTargetCrossEntropy.
import { emptyFloat32, zeroFloat32 } from '../tensor/storage.js';
import { Tensor } from '../tensor/tensor.js';
import { native, getThreads } from '../tensor/native.js';
import type { Generator } from '../tensor/random.js';
import { logSoftmax } from '../tensor/activation.js';
import { mul, sum, mulScalar } from '../tensor/ops.js';

export interface MixupOptions {
  mixupAlpha: number;
  cutmixAlpha: number;
  mixProb: number;
  switchProb: number;
  labelSmoothing: number;
  numClasses: number;
}

export interface Box { yl: number; yh: number; xl: number; xh: number }

/** timm's rand_bbox for a given centre (cy, cx), and λ corrected to 1 − the clipped box's share. */
export function cutmixBox(h: number, w: number, lam: number, cy: number, cx: number): { box: Box; lam: number } {
  const ratio = Math.sqrt(1 - lam);
  const cutH = Math.trunc(h * ratio), cutW = Math.trunc(w * ratio);
  const clip = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  const box = {
    yl: clip(cy - Math.floor(cutH / 2), h), yh: clip(cy + Math.floor(cutH / 2), h),
    xl: clip(cx - Math.floor(cutW / 2), w), xh: clip(cx + Math.floor(cutW / 2), w),
  };
  return { box, lam: 1 - ((box.yh - box.yl) * (box.xh - box.xl)) / (h * w) };
}

/** The batch mixed with its reverse: blended by λ (mixup), or with the box pasted from it (cutmix). */
export function mixBatch(x: Tensor, lam: number, box: Box | null): Tensor {
  const [n, c, h, w] = x.shape;
  const per = c * h * w;
  const src = x.data, out = emptyFloat32(src.length);
  if (!box) {
    // λ·x + (1−λ)·reversed x natively, in float32 as timm's x.mul_(λ).add_(flipped.mul_(1 − λ)):
    // a JS loop took 38 ms on 64 images of 3×224×224, this 14 (best of 20, allocation included).
    native.scale(lam, src, out, getThreads());
    for (let i = 0; i < n; i++) native.axpy(1 - lam, src.subarray((n - 1 - i) * per, (n - i) * per), out.subarray(i * per, (i + 1) * per), getThreads());
    return new Tensor(out, x.shape);
  }
  for (let i = 0; i < n; i++) {
    const a = i * per, b = (n - 1 - i) * per;
    out.set(src.subarray(a, a + per), a);
    for (let ch = 0; ch < c; ch++) {
      for (let y = box.yl; y < box.yh; y++) {
        const row = ch * h * w + y * w;
        out.set(src.subarray(b + row + box.xl, b + row + box.xh), a + row + box.xl);
      }
    }
  }
  return new Tensor(out, x.shape);
}

/** timm's mixup_target: one-hot rows (off = ε/C, on = 1 − ε + off) blended λ : 1−λ with the reversed batch's. */
export function mixupTarget(y: ArrayLike<number>, numClasses: number, lam: number, smoothing: number): Tensor {
  const n = y.length;
  const off = smoothing / numClasses, on = 1 - smoothing + off;
  const out = zeroFloat32(n * numClasses);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < numClasses; k++) {
      const y1 = k === y[i] ? on : off, y2 = k === y[n - 1 - i] ? on : off;
      out[i * numClasses + k] = y1 * lam + y2 * (1 - lam);
    }
  }
  return new Tensor(out, [n, numClasses]);
}

/** timm's SoftTargetCrossEntropy: mean over rows of Σ −target · log_softmax(logits). */
export function softTargetCrossEntropy(logits: Tensor, target: Tensor): Tensor {
  return mulScalar(sum(mul(target, logSoftmax(logits, 1))), -1 / logits.shape[0]);
}

/** A Gamma(α, 1) draw: Marsaglia–Tsang, boosted by U^(1/α) for α < 1. */
function gamma(gen: Generator, alpha: number): number {
  if (alpha < 1) return gamma(gen, alpha + 1) * Math.pow(1 - gen.random(), 1 / alpha);
  const d = alpha - 1 / 3, c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z = gen.normal();
    const v = (1 + c * z) ** 3;
    if (v <= 0) continue;
    const u = 1 - gen.random();
    if (Math.log(u) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** A Beta(α, α) draw. */
export function sampleBeta(gen: Generator, alpha: number): number {
  const a = gamma(gen, alpha), b = gamma(gen, alpha);
  return a / (a + b);
}

export class Mixup {
  constructor(readonly o: MixupOptions) {}

  /** timm's _params_per_batch: λ (1: this batch is not mixed) and whether it is cutmix. */
  params(gen: Generator): { lam: number; cutmix: boolean } {
    const { mixupAlpha, cutmixAlpha, mixProb, switchProb } = this.o;
    if (!(gen.random() < mixProb)) return { lam: 1, cutmix: false };
    const cutmix = mixupAlpha > 0 && cutmixAlpha > 0 ? gen.random() < switchProb : cutmixAlpha > 0;
    return { lam: sampleBeta(gen, cutmix ? cutmixAlpha : mixupAlpha), cutmix };
  }

  /** The mixed batch and its soft targets. */
  apply(x: Tensor, y: ArrayLike<number>, gen: Generator): { x: Tensor; target: Tensor } {
    let { lam, cutmix } = this.params(gen);
    let mixed = x;
    if (lam !== 1) {
      let box: Box | null = null;
      if (cutmix) {
        const [, , h, w] = x.shape;
        ({ box, lam } = cutmixBox(h, w, lam, gen.randint(h), gen.randint(w)));
      }
      mixed = mixBatch(x, lam, box);
    }
    return { x: mixed, target: mixupTarget(y, this.o.numClasses, lam, this.o.labelSmoothing) };
  }
}
