// PyTorch's output-size rules and the integer-pair options they take, in one place for the ops
// (conv, pool, conv-transpose), the layers (src/nn) and the model summary.

/** n, or (h, w). */
export type IntPair = number | readonly [number, number];

/**
 * n or [h, w] as [h, w], each an integer >= min. Anything but a number or a pair of integers is a
 * TypeError; a value below min a RangeError. `op` prefixes the message (`maxPool2d: ...`).
 */
export function intPair(value: IntPair | readonly number[] | undefined, name: string, min: number, op?: string): [number, number] {
  const where = op ? `${op}: ` : '';
  const p = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((e) => Number.isInteger(e))) {
    throw new TypeError(`${where}expected ${name} to be an integer or a pair of integers but received ${JSON.stringify(value)}`);
  }
  if (p[0] < min || p[1] < min) {
    throw new RangeError(`${where}expected ${name} to be at least ${min} but received ${formatPair([p[0], p[1]])}`);
  }
  return [p[0], p[1]];
}

export function formatPair(p: readonly [number, number]): string {
  return `(${p[0]}, ${p[1]})`;
}

/**
 * Output length of a convolution or pooling window along one axis:
 * ⌊(in + padBefore + padAfter − d·(k−1) − 1) / s⌋ + 1, rounded up with ceilMode, where (as in
 * PyTorch's pooling_output_shape) the last window must then start inside the input or its
 * leading padding. `padding` is one value for both sides or [before, after].
 */
export function convOutputSize(inputSize: number, kernelSize: number, stride = 1, padding: number | readonly [number, number] = 0,
  dilation = 1, ceilMode = false): number {
  const [before, after] = typeof padding === 'number' ? [padding, padding] : padding;
  const span = inputSize + before + after - dilation * (kernelSize - 1) - 1;
  let out = Math.floor((span + (ceilMode ? stride - 1 : 0)) / stride) + 1;
  if (ceilMode && (out - 1) * stride >= inputSize + before) out--;
  return out;
}

/** Transposed convolution: (in − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1. */
export function convTransposeOutputSize(inputSize: number, kernelSize: number, stride: number, padding: number,
  outputPadding: number, dilation: number): number {
  return (inputSize - 1) * stride - 2 * padding + dilation * (kernelSize - 1) + outputPadding + 1;
}
