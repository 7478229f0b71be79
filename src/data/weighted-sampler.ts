// WeightedRandomSampler(weights, num_samples, replacement=True): each draw picks sample i with
// probability weights[i] / Σ weights, independently (so a sample can appear many times an epoch).
import type { Generator } from '../tensor/random.js';

export function weightedDraw(weights: ArrayLike<number>, count: number, gen: Generator): Int32Array {
  const cumulative = new Float64Array(weights.length);
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    if (!(w >= 0 && Number.isFinite(w))) throw new RangeError(`WeightedRandomSampler: weight ${i} is ${w}; weights must be finite and non-negative`);
    total += w;
    cumulative[i] = total;
  }
  if (!(total > 0)) throw new RangeError('WeightedRandomSampler: the weights sum to 0');
  const out = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    // The first index whose cumulative weight exceeds u: binary search.
    const u = gen.random() * total;
    let lo = 0, hi = weights.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    out[k] = lo;
  }
  return out;
}

/** The weights of --sampler balanced: 1 / (the number of samples of the sample's class). */
export function balancedSampleWeights(labels: ArrayLike<number>): Float64Array {
  const counts = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) counts.set(labels[i], (counts.get(labels[i]) ?? 0) + 1);
  return Float64Array.from({ length: labels.length }, (_, i) => 1 / counts.get(labels[i])!);
}
