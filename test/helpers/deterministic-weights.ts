// Weights from a formula, so whole-model fixtures need not ship the weights: the twin of
// fill_deterministic in test/fixtures/gen.py, which must stay identical to this file.
//
// For the state-dict entry s with n elements, value[i] = scale · sin(0.37·q(i) + phase(s)),
// computed in float64 and rounded to float32, where
//   q(i)     = (i mod 10007)² mod 10007 (a plain sin(0.37·i) makes every kernel a narrow
//              band-pass filter, and a deep stack of them passes almost nothing of its input)
//   phase(s) = (sum of the UTF-16 code units of s) mod 1000 / 100
// and, by the entry's last name component and rank:
//   conv/linear weights (≥ 2-D)  gain/√fan_in · sin   (fan_in = shape[1]·prod(shape[2:]))
//   1-D weight (BatchNorm)        1 + 0.1·sin
//   bias, running_mean            0.1·sin
//   running_var                   1 + 0.5·|sin|
//   num_batches_tracked           0
import type { Module } from '../../src/nn/module.js';

const RESIDUE_MODULUS = 10007;

export function namePhase(name: string): number {
  let total = 0;
  for (let i = 0; i < name.length; i++) total += name.charCodeAt(i);
  return (total % 1000) / 100;
}

/** The deterministic values of the state-dict entry `name` with this shape. */
export function deterministicValues(name: string, shape: readonly number[], gain = 1): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const leaf = name.slice(name.lastIndexOf('.') + 1);
  if (leaf === 'num_batches_tracked') return out;
  const phase = namePhase(name);
  const sine = (i: number): number => {
    const j = i % RESIDUE_MODULUS;
    return Math.sin(((j * j) % RESIDUE_MODULUS) * 0.37 + phase);
  };
  let value: (s: number) => number;
  if (shape.length >= 2) {
    const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
    const scale = gain / Math.sqrt(fanIn);
    value = (s) => scale * s;
  } else if (leaf === 'weight') {
    value = (s) => 1 + 0.1 * s;
  } else if (leaf === 'bias' || leaf === 'running_mean') {
    value = (s) => 0.1 * s;
  } else if (leaf === 'running_var') {
    value = (s) => 1 + 0.5 * Math.abs(s);
  } else {
    throw new RangeError(`no deterministic rule for state-dict entry '${name}'`);
  }
  // q(i) repeats with period 10007: compute one period, copy it over the rest.
  const period = Math.min(n, RESIDUE_MODULUS);
  for (let i = 0; i < period; i++) out[i] = value(sine(i));
  for (let at = period; at < n; at += period) out.copyWithin(at, 0, Math.min(period, n - at));
  return out;
}

/**
 * Overwrites every state-dict entry (parameters and buffers) of model in place. gain scales
 * the conv/linear weights; gen.py picks it per model so activations neither vanish nor explode.
 */
export function fillDeterministic(model: Module, gain = 1): void {
  for (const [name, t] of model.stateDict()) t.data.set(deterministicValues(name, t.shape, gain));
}
