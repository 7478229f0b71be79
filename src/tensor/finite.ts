// One native pass over many arrays for NaN/±Inf: what a checkpoint must not hold.
import { native, getThreads } from './native.js';
import { Tensor } from './tensor.js';

type Values = Tensor | Float32Array;

/** The index of the first of `values` holding a NaN or an infinity, or -1 when all are finite. */
export function firstNonFinite(values: readonly Values[]): number {
  return native.firstNonFinite(values.map((v) => (v instanceof Tensor ? v.data : v)), getThreads());
}

/** Whether every element of every tensor or array is finite. */
export function allFinite(values: readonly Values[]): boolean {
  return firstNonFinite(values) < 0;
}
