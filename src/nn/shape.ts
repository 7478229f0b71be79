// Receptive fields for the model summary; the output-size rules live in src/tensor/shape.ts.

export { convOutputSize } from '../tensor/shape.js';

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
