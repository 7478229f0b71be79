// Eval's Linear layers multiply weights packed once per weight version (tensor/linear-weights.ts):
// the bits of a product that packs per call, one packing reused by later calls, a new one after
// the weights change; ops.linear on bare tensors packs per call. (build/Release/kernel_tests checks
// the packed GEMM per ISA, and that another ISA's packing or a copy at another alignment is ignored.)
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, noGrad } from '../../src/tensor/tensor.js';
import { linear } from '../../src/tensor/ops.js';
import { Generator } from '../../src/tensor/random.js';
import { linearPackCount } from '../../src/tensor/linear-weights.js';
import { Linear } from '../../src/nn/linear.js';
import { SGD } from '../../src/optim/sgd.js';

it('eval\'s Linear packs its weights once per weight version and gives the per-call bits', () => {
  const g = new Generator(5);
  const layer = new Linear({ inFeatures: 300, outFeatures: 70 });
  const x = Tensor.randn([33, 300], { generator: g });
  const recorded = layer.call(x).detach();  // records a gradient: packs per call
  const before = linearPackCount();
  const first = noGrad(() => layer.call(x));
  assert.equal(linearPackCount() - before, 1);
  assert.deepEqual(first.data, recorded.data, 'the bits of the per-call packing');
  noGrad(() => layer.call(Tensor.randn([5, 300], { generator: g })));
  assert.equal(linearPackCount() - before, 1, 'reused by a later call');
  const plain = noGrad(() => linear(x, layer.weight, layer.bias));
  assert.equal(linearPackCount() - before, 1, 'ops.linear on any tensors packs per call');
  assert.deepEqual(plain.data, first.data);
  layer.call(x).sum().backward();
  new SGD(layer.parameters(), { lr: 0.1 }).step();
  const after = noGrad(() => layer.call(x));
  assert.equal(linearPackCount() - before, 2, 'packed again after the step');
  assert.deepEqual(after.data, layer.call(x).detach().data, 'the new weights\' bits');
});
