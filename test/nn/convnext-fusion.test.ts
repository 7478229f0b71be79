// ConvNeXt's block tail as one kernel in eval (src/tensor/convnext-mlp.ts, native/conv/convnext_mlp.h):
// a whole convnext_tiny eval through the 18 fused blocks gives the logits of the unfused path
// (recorded gradients run every layer one by one) within 1e-4 absolute and relative, on CIFAR-sized
// images (runs of whole images) and on 3×96×96 (stage 1's hidden pixels in bands). The weights
// (LayerNorm's affine and the layer scale folded in) are packed once per block and weight version;
// a hook anywhere in a block, or train mode, keeps its layers apart.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CNBlock } from '../../src/models/convnext.js';
import { Tensor, noGrad } from '../../src/tensor/tensor.js';
import { convnextMlp, convnextMlpPackCount } from '../../src/tensor/convnext-mlp.js';
import { countNativeCalls } from '../helpers/native-calls.js';
import { SGD } from '../../src/optim/sgd.js';
import { crossEntropy } from '../../src/tensor/loss.js';
import { sineImages, deterministicModel } from '../helpers/zoo-inputs.js';
import { assertClose } from '../helpers/assert.js';

const WITHIN = { atol: 1e-4, rtol: 1e-4 };

/** fn's result and how many block tails ran through the fused kernel. */
const countFused = <T>(fn: () => T): [T, number] => countNativeCalls('convnextMlpForward', fn);

/** convnext_tiny with deterministic weights and a layer scale of 0.5 (torchvision's 1e-6 would hide the blocks' tails). */
function model() {
  const m = deterministicModel('convnext_tiny').eval();
  for (const [name, p] of m.namedParameters()) if (name.endsWith('layer_scale')) p.data.fill(0.5);
  return m;
}

describe('convnext_tiny eval through fused block tails', () => {
  for (const [n, side] of [[3, 32], [1, 96]] as const) {
    it(`${n} images of 3×${side}×${side}: the unfused logits, 18 blocks fused`, () => {
      const m = model(), x = sineImages(n, side);
      const [fused, calls] = countFused(() => noGrad(() => m.call(x)));
      assert.equal(calls, 18);
      const [unfused, unfusedCalls] = countFused(() => m.call(x).detach());
      assert.equal(unfusedCalls, 0);
      assertClose(fused, unfused, WITHIN, 'fused block tails against the layers one by one');
      assert.ok(fused.data.some((v) => Math.abs(v) > 0.1), 'logits of some size');
    });
  }

  it('packs each block once per weight version; a hook in a block or train mode keeps the layers apart', () => {
    const m = model(), x = sineImages(2);
    const before = convnextMlpPackCount();
    const first = noGrad(() => m.call(x));
    assert.equal(convnextMlpPackCount() - before, 18, 'one packing per block');
    assert.deepEqual(noGrad(() => m.call(x)).data, first.data, 'the same logits from the reused packs');
    assert.equal(convnextMlpPackCount() - before, 18, 'a second eval reused them');
    const block = [...m.modules()].filter((b) => b instanceof CNBlock)[4];
    let seen: Tensor | undefined;
    const handle = [...block.modules()][5].registerForwardHook((_m, _in, y) => { seen = y; });
    const [hooked, calls] = countFused(() => noGrad(() => m.call(x)));
    handle.remove();
    assert.equal(calls, 17);
    assert.equal(seen?.ndim, 4);
    assertClose(hooked, first, WITHIN, 'one block layer by layer');
    m.train();
    assert.equal(countFused(() => noGrad(() => m.call(x)))[1], 0, 'train mode');
    crossEntropy(m.call(x), [1, 7]).backward();
    new SGD(m.parameters(), { lr: 0.01 }).step();
    m.eval();
    noGrad(() => m.call(x));
    assert.equal(convnextMlpPackCount() - before, 36, 'the step\'s new weights were packed again');
  });

  it('refuses to record a gradient, and weights that do not fit', () => {
    const t = (shape: number[], grad = false) => {
      const v = new Tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.1), shape);
      v.requiresGrad = grad;
      return v;
    };
    const layers = { ln: { weight: t([4]), bias: t([4]), eps: 1e-6 }, fc1: { weight: t([8, 4]), bias: t([8]) }, fc2: { weight: t([4, 8]), bias: t([4]) }, scale: t([4, 1, 1]) };
    const y = noGrad(() => convnextMlp(t([2, 4, 3, 3]), t([2, 4, 3, 3]), layers));
    assert.deepEqual(y.shape, [2, 4, 3, 3]);
    assert.throws(() => convnextMlp(t([2, 4, 3, 3]), t([2, 4, 3, 3]), { ...layers, fc1: { weight: t([8, 4], true), bias: null } }), /records no gradient/);
    assert.throws(() => noGrad(() => convnextMlp(t([2, 4, 3, 3]), t([2, 4, 3, 2]), layers)), /one shape/);
    assert.throws(() => noGrad(() => convnextMlp(t([2, 4, 3, 3]), t([2, 4, 3, 3]), { ...layers, fc2: { weight: t([4, 7]), bias: null } })), /fc2 weight \[4, 7\] does not fit/);
  });
});
