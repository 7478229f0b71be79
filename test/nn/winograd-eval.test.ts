// Eval through Winograd F(4×4, 3×3) (native/conv/winograd.h): resnet18 and simplecnn give the
// logits of the pinned GEMM path within 1e-4 (the fusion tests' bound; the kernel tests bound each
// layer at 192 float epsilons of Σ|w|·|x|, measured at 10-30), the transformed weights are made once
// per weight version and reused, and a pinned path never takes Winograd.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { withoutInit } from '../../src/nn/init.js';
import { Conv2d } from '../../src/nn/conv.js';
import { Tensor, noGrad } from '../../src/tensor/tensor.js';
import { native } from '../../src/tensor/native.js';
import { conv2d, conv2dParams } from '../../src/tensor/ops.js';
import { crossEntropy } from '../../src/tensor/loss.js';
import { SGD } from '../../src/optim/sgd.js';
import { winogradTransformCount } from '../../src/tensor/winograd-weights.js';
import { fillDeterministic } from '../helpers/deterministic-weights.js';
import { sineImages, deterministicModel } from '../helpers/zoo-inputs.js';
import { assertClose } from '../helpers/assert.js';

const WITHIN = { atol: 1e-4, rtol: 1e-4 };

function pinned<T>(algo: 'batched' | 'grid', fn: () => T): T {
  native.setConvAlgo(algo);
  try {
    return fn();
  } finally {
    native.setConvAlgo('auto');
  }
}

describe('eval through Winograd gives the pinned path\'s logits', () => {
  for (const name of ['resnet18', 'simplecnn']) {
    it(name, () => {
      // resnet18 at 64×64: 16×16 maps after its stem (the 8×8 ones at 32×32 go by the channels-in-lanes loops).
      const model = deterministicModel(name).eval(), x = name === 'resnet18' ? sineImages(4, 64) : sineImages(8);
      const before = winogradTransformCount();
      const got = noGrad(() => model.call(x));
      const transformed = winogradTransformCount() - before;
      assert.ok(transformed > 0, `${name}: some layer ran by Winograd`);
      const want = pinned('batched', () => noGrad(() => model.call(x)));
      assertClose(got, want, WITHIN, name);
      // Steady state: the next batch reuses every transform.
      noGrad(() => model.call(name === 'resnet18' ? sineImages(4, 64, 1) : sineImages(8, 32, 1)));
      assert.equal(winogradTransformCount() - before, transformed, `${name}: a second eval transformed again`);
    });
  }
});

it('transformed weights follow weight changes (an optimizer step)', () => {
  const model = deterministicModel('resnet18').eval(), x = sineImages(4, 64);
  noGrad(() => model.call(x));
  const optimizer = new SGD(model.parameters(), { lr: 0.05 });
  model.train();
  crossEntropy(model.call(x), [1, 7, 0, 2]).backward();
  optimizer.step();
  model.eval();
  const before = winogradTransformCount();
  const got = noGrad(() => model.call(x));
  assert.ok(winogradTransformCount() > before, 'the step\'s new weights were transformed');
  assertClose(got, pinned('batched', () => noGrad(() => model.call(x))), WITHIN, 'after a step');
});

it('a pinned path never takes Winograd and gives the bits it gave before', () => {
  const conv = withoutInit(() => new Conv2d({ inChannels: 32, outChannels: 48, kernelSize: 3, padding: 1 }));
  fillDeterministic(conv, 1.5);
  const x = sineImages(2);
  const widen = conv2d(x, new Tensor(new Float32Array(32 * 3).fill(0.3), [32, 3, 1, 1]), null);
  const p = conv2dParams(widen.shape, conv.weight.shape, { padding: [1, 1, 1, 1] });
  assert.ok(native.conv2dWinogradFloats(p, 2) > 0, 'auto would take Winograd here');
  for (const algo of ['batched', 'grid'] as const) {
    pinned(algo, () => {
      assert.equal(native.conv2dWinogradFloats(p, 2), 0);
      const before = winogradTransformCount();
      const evalOut = noGrad(() => conv.call(widen));
      const recorded = conv.call(widen);  // records a gradient: never Winograd
      assert.equal(winogradTransformCount(), before, `${algo}: no transform`);
      assert.deepEqual(evalOut.data, recorded.data, `${algo}: the eval pass is the recorded one bit for bit`);
    });
  }
});
