// Eval's by-image and grid convolutions multiply weights packed once per weight version
// (tensor/packed-weights.ts), not per call: resnet50's eval packs each such layer once, reuses the
// packs on the next batch, packs again after an optimizer step, and gives the bits of calls that
// pack their own. (build/Release/kernel_tests checks the kernels per ISA, and that another ISA's
// packing is ignored.)
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, noGrad } from '../../src/tensor/tensor.js';
import { native, getThreads, type ConvParams } from '../../src/tensor/native.js';
import { conv2d, convOutputShape } from '../../src/tensor/ops.js';
import { crossEntropy } from '../../src/tensor/loss.js';
import { SGD } from '../../src/optim/sgd.js';
import { packCount, packedWeights } from '../../src/tensor/packed-weights.js';
import { sineImages, deterministicModel } from '../helpers/zoo-inputs.js';

it('resnet50 eval packs its by-image and grid layers once per weight version', () => {
  const m = deterministicModel('resnet50').eval(), x = sineImages(16);
  const before = packCount();
  const first = noGrad(() => m.call(x));
  const built = packCount() - before;
  assert.ok(built >= 20, `packed ${built} layers`);
  const again = noGrad(() => m.call(x));
  assert.equal(packCount() - before, built, 'a second eval reused them');
  assert.deepEqual(again.data, first.data, 'the same logits from the reused packs');
  const optimizer = new SGD(m.parameters(), { lr: 0.05 });
  m.train();
  crossEntropy(m.call(x), Array.from({ length: 16 }, (_, i) => i % 10)).backward();
  optimizer.step();
  m.eval();
  noGrad(() => m.call(x));
  assert.equal(packCount() - before, 2 * built, 'the step\'s new weights were packed again');
});

it('a convolution given its cached packs gives the bits of one that packs per call', () => {
  // resnet50's layer2 1×1 (by image) and a 3×3 with groups at 8×8 (45 output channels a group, which no
  // ISA's channels-in-lanes blocks divide, so it stays on the packed paths).
  const cases: ConvParams[] = [
    { n: 16, cIn: 128, h: 4, w: 4, cOut: 512, kh: 1, kw: 1, strideH: 1, strideW: 1, padT: 0, padB: 0, padL: 0, padR: 0, dilH: 1, dilW: 1, groups: 1 },
    { n: 8, cIn: 64, h: 8, w: 8, cOut: 90, kh: 3, kw: 3, strideH: 2, strideW: 2, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 2 },
  ];
  for (const p of cases) {
    const x = Tensor.randn([p.n, p.cIn, p.h, p.w]), w = Tensor.randn([p.cOut, p.cIn / p.groups, p.kh, p.kw]);
    assert.ok(packedWeights(p, w, getThreads()), `${p.cIn}->${p.cOut} ${p.kh}x${p.kw} packs`);
    const got = noGrad(() => conv2d(x, w, null, { stride: [p.strideH, p.strideW], padding: [p.padT, p.padB, p.padL, p.padR], groups: p.groups }));
    const want = new Float32Array(got.size);
    native.conv2dForward(p, x.data, w.data, null, want, getThreads());
    assert.deepEqual(got.shape, convOutputShape(p));
    assert.deepEqual(got.data, want);
  }
});
