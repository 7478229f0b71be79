// PyTorch's documented shape formulas, as pure functions.

/** Output length of a conv/pool along one axis: ⌊(in + 2p − d(k−1) − 1)/s⌋ + 1 (⌈⌉ with ceilMode). */
export function convOutputSize(inputSize: number, kernelSize: number, stride = 1, padding = 0, dilation = 1, ceilMode = false): number {
  const span = inputSize + 2 * padding - dilation * (kernelSize - 1) - 1;
  let out = (ceilMode ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  // PyTorch: with ceil mode the last window must start inside the input or left padding.
  if (ceilMode && (out - 1) * stride >= inputSize + padding) out--;
  return out;
}

export interface RFLayer {
  kernelSize: number;
  stride?: number;
  padding?: number;
  dilation?: number;
}

export interface ReceptiveField {
  /** Input pixels one output unit sees. */
  size: number;
  /** Input pixels between neighbouring output units. */
  jump: number;
  /** Input coordinate of the centre of the first output unit's field. */
  start: number;
}

/** Receptive field after a chain of layers: r += (k_eff − 1)·j, j ·= s, start += ((k_eff − 1)/2 − p)·j. */
export function receptiveField(layers: readonly RFLayer[], from: ReceptiveField = { size: 1, jump: 1, start: 0.5 }): ReceptiveField {
  let { size, jump, start } = from;
  for (const l of layers) {
    const k = (l.dilation ?? 1) * (l.kernelSize - 1) + 1;
    size += (k - 1) * jump;
    start += ((k - 1) / 2 - (l.padding ?? 0)) * jump;
    jump *= l.stride ?? 1;
  }
  return { size, jump, start };
}
