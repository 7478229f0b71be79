// clipGradNorm / clipGradValue against torch.nn.utils.clip_grad_norm_ / clip_grad_value_.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { clipGradNorm, clipGradValue } from '../../src/optim/clip-grad.js';
import { loadFixture } from '../helpers/fixtures.js';
import { assertClose, FORWARD } from '../helpers/assert.js';

interface ClipCase { kind: 'norm' | 'value'; maxNorm?: number; clipValue?: number }

const cases = loadFixture<ClipCase>('clip_grad.safetensors');

test('the fixture file holds clipped and unclipped cases of both kinds', () => {
  assert.deepEqual(cases.map((c) => c.params.kind), ['norm', 'norm', 'norm', 'value', 'value']);
});

for (const c of cases) {
  test(`${c.name} matches torch.nn.utils`, () => {
    const params = [c.t.g0, c.t.g1, c.t.g2].map((g) => {
      const p = Tensor.zeros(g.shape).requiresGrad_();
      p.grad = g.clone();
      return p;
    });
    if (c.params.kind === 'norm') {
      const total = clipGradNorm(params, c.params.maxNorm!);
      assertClose(new Tensor(new Float32Array([total]), [1]), c.t.totalNorm, FORWARD, 'totalNorm');
    } else {
      clipGradValue(params, c.params.clipValue!);
    }
    params.forEach((p, i) => assertClose(p.grad!, c.t[`after${i}`], FORWARD, `after${i}`));
  });
}

test('parameters without a gradient are skipped, and the limits must be positive', () => {
  const p = Tensor.zeros([2]).requiresGrad_();
  assert.equal(clipGradNorm([p], 1), 0);
  assert.throws(() => clipGradNorm([p], 0), RangeError);
  assert.throws(() => clipGradValue([p], -1), RangeError);
});
