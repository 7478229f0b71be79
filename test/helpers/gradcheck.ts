// Finite-difference gradient checks in float32: central differences on a scalar loss
// sum(f(inputs) · r) with a fixed random r, compared with autograd.
import assert from 'node:assert/strict';
import { Tensor, noGrad } from '../../src/tensor/tensor.js';
import { Generator } from '../../src/tensor/random.js';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Skip coordinates where f has a kink within eps (ReLU at 0, max ties): returns true to skip. */
  skip?: (inputIndex: number, element: number) => boolean;
  /** Check at most this many coordinates per input (spread evenly). */
  maxPoints?: number;
}

function weightedSum(out: Tensor, r: Float32Array): number {
  let s = 0;
  for (let i = 0; i < r.length; i++) s += out.data[i] * r[i];
  return s;
}

export function gradcheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], label: string, opts: GradcheckOptions = {}): void {
  const { eps = 1e-2, atol = 2e-3, rtol = 2e-2, maxPoints = 64 } = opts;
  for (const x of inputs) { x.requiresGrad = true; x.grad = null; }
  const out = f(...inputs);
  const g = new Generator(7);
  const r = new Float32Array(out.size);
  for (let i = 0; i < r.length; i++) r[i] = g.random() * 2 - 1;
  out.backward(new Tensor(r, out.shape));
  inputs.forEach((x, xi) => {
    assert.ok(x.grad, `${label}: input ${xi} got no gradient`);
    const step = Math.max(1, Math.floor(x.size / maxPoints));
    for (let i = 0; i < x.size; i += step) {
      if (opts.skip?.(xi, i)) continue;
      const saved = x.data[i];
      // The step actually taken is what float32 storage can hold.
      const hi = Math.fround(saved + eps), lo = Math.fround(saved - eps);
      x.data[i] = hi;
      const plus = noGrad(() => weightedSum(f(...inputs), r));
      x.data[i] = lo;
      const minus = noGrad(() => weightedSum(f(...inputs), r));
      x.data[i] = saved;
      const numeric = (plus - minus) / (hi - lo);
      const analytic: number = x.grad!.data[i];
      if (!(Math.abs(numeric - analytic) <= atol + rtol * Math.abs(numeric))) {
        assert.fail(`${label}: d/d input${xi}[${i}] autograd ${analytic}, finite difference ${numeric}`);
      }
    }
  });
}
