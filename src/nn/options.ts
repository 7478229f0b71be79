// Option parsing shared by the layers: PyTorch accepts n or (h, w) for sizes.
export type Pair = number | readonly [number, number];

export function pair(value: Pair, name: string, min: number): [number, number] {
  const p: [number, number] = typeof value === 'number' ? [value, value] : [value[0], value[1]];
  if (p.some((v) => !Number.isInteger(v) || v < min)) {
    throw new RangeError(`Expected ${name} to be an integer >= ${min} or a pair of them but received ${JSON.stringify(value)}`);
  }
  return p;
}

export function formatPair(p: readonly [number, number]): string {
  return `(${p[0]}, ${p[1]})`;
}

export function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`Expected ${name} to be a positive integer but received ${value}`);
  return value;
}
