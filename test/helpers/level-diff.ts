// Comparing decoded crops with reference pictures, in uint8 levels.
import assert from 'node:assert/strict';

/** Mean and largest |difference| in uint8 levels between a CHW crop and HWC pixels, and the share within 16 levels. */
export function levelDiff(chw: Uint8Array, hwc: Uint8Array, channels: number): { mean: number; max: number; within16: number } {
  assert.equal(hwc.length, chw.length);
  const plane = chw.length / channels;
  let sum = 0, max = 0, close = 0;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < channels; c++) {
      const d = Math.abs(chw[c * plane + i]! - hwc[i * channels + c]!);
      sum += d;
      max = Math.max(max, d);
      if (d <= 16) close++;
    }
  }
  return { mean: sum / chw.length, max, within16: close / chw.length };
}
