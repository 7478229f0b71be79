// Gradient clipping as torch.nn.utils: clipGradNorm_ scales every gradient by one factor so their
// global L2 norm is at most maxNorm; clipGradValue_ clamps each element to [-clipValue, clipValue].
import type { Tensor } from '../tensor/tensor.js';

/** The L2 norm over all gradients (as if concatenated); the norm before clipping is returned. */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  if (!(maxNorm > 0)) throw new RangeError(`Expected a positive maxNorm but received ${maxNorm}`);
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  let sumSquares = 0;
  for (const g of grads) {
    const d = g.data;
    for (let i = 0; i < d.length; i++) sumSquares += d[i] * d[i];
  }
  const totalNorm = Math.sqrt(sumSquares);
  // PyTorch multiplies by min(1, maxNorm / (total + 1e-6)), in float32.
  const coef = Math.fround(maxNorm / (totalNorm + 1e-6));
  if (coef < 1) {
    for (const g of grads) {
      const d = g.data;
      for (let i = 0; i < d.length; i++) d[i] *= coef;
    }
  }
  return totalNorm;
}

export function clipGradValue(params: readonly Tensor[], clipValue: number): void {
  if (!(clipValue > 0)) throw new RangeError(`Expected a positive clipValue but received ${clipValue}`);
  for (const p of params) {
    const d = p.grad?.data;
    if (!d) continue;
    for (let i = 0; i < d.length; i++) d[i] = Math.min(clipValue, Math.max(-clipValue, d[i]));
  }
}
