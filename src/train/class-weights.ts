// --class-weights: cross-entropy's per-class weight, given (w1,w2,…) or 'auto' — sklearn's
// compute_class_weight('balanced'): n_samples / (n_classes · count of the class).
import { ConfigError } from '../errors.js';

export type ClassWeightsSpec = 'auto' | number[];

export function parseClassWeights(raw: string): ClassWeightsSpec {
  if (raw === 'auto') return 'auto';
  const values = raw.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)));
  if (values.some((v) => !(v >= 0 && Number.isFinite(v))) || !values.some((v) => v > 0)) {
    throw new ConfigError(`Expected auto or comma-separated non-negative weights (not all 0) for --class-weights but received '${raw}'`, '--class-weights');
  }
  return values;
}

/** sklearn's "balanced" weights of classes 0..numClasses-1 from the training labels. */
export function balancedClassWeights(labels: ArrayLike<number>, numClasses: number): Float32Array {
  const counts = new Float64Array(numClasses);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  const empty = counts.findIndex((n) => n === 0);
  if (empty >= 0) throw new ConfigError(`--class-weights auto: class ${empty} has no training samples`, '--class-weights');
  return Float32Array.from(counts, (n) => labels.length / (numClasses * n));
}

/** The weight tensor's values for a run, checked against its number of classes. */
export function classWeightsFor(spec: ClassWeightsSpec, labels: ArrayLike<number>, numClasses: number): Float32Array {
  if (spec === 'auto') return balancedClassWeights(labels, numClasses);
  if (spec.length !== numClasses) throw new ConfigError(`--class-weights has ${spec.length} weights but the model has ${numClasses} classes`, '--class-weights');
  return Float32Array.from(spec);
}
