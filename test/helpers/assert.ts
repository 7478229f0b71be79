import assert from 'node:assert/strict';
import type { Tensor } from '../../src/tensor/tensor.js';

/** Forward outputs against PyTorch. */
export const FORWARD = { atol: 1e-5, rtol: 1e-4 };
/** Gradients against PyTorch. */
export const GRADIENT = { atol: 1e-4, rtol: 1e-3 };

/**
 * |got - want| <= atol·scale + rtol·|want| everywhere, shapes equal; NaN never passes.
 * scale = max(1, max|want|): a float32 sum of many terms errs in proportion to the size of
 * its terms, not of its result, so near-zero results of large sums need the absolute slack.
 */
export function assertClose(got: Tensor | Float32Array | number[], want: Tensor | Float32Array | number[],
  tol: { atol: number; rtol: number }, label: string): void {
  const g = 'data' in got ? got.data : got;
  const w = 'data' in want ? want.data : want;
  if ('shape' in got && 'shape' in want) {
    assert.deepEqual([...got.shape], [...want.shape], `${label}: shape`);
  }
  assert.equal(g.length, w.length, `${label}: length`);
  let scale = 1;
  for (let i = 0; i < w.length; i++) scale = Math.max(scale, Math.abs(w[i]));
  const atol = tol.atol * scale;
  for (let i = 0; i < w.length; i++) {
    const diff = Math.abs(g[i] - w[i]);
    if (!(diff <= atol + tol.rtol * Math.abs(w[i]))) {
      assert.fail(`${label}: element ${i} is ${g[i]}, expected ${w[i]} (|diff| ${diff.toExponential(2)} > atol ${atol.toExponential(2)} + rtol ${tol.rtol})`);
    }
  }
}
