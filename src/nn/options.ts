// Option parsing shared by the layers: PyTorch accepts n or (h, w) for sizes.
export { intPair as pair, formatPair, type IntPair as Pair } from '../tensor/shape.js';

export function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`Expected ${name} to be a positive integer but received ${value}`);
  return value;
}
