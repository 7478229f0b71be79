// Whole inverted residual blocks as one kernel (src/nn/inverted-residual-fusion.ts): a whole
// mobilenet_v2 eval through the fused blocks gives the logits of the layer-by-layer path (each
// convolution with BatchNorm folded in) and of the unfused path (recorded gradients), within 1e-4
// absolute and relative: the fused kernel sums each 1×1 product and each depthwise tap in float32
// in another order (GEMM blocking, FMA contraction) than the layer kernels do, which moves a value
// by a few ulps per layer; over 17 blocks on logits of order 1 that stays orders of magnitude
// below 1e-4 (the tolerance eval fusion's other tests hold every zoo model to). The 16 blocks
// with an expansion fuse, and at 96×96 the first, without one, on NCHW planes in two bands of
// rows (at 32×32 its 16×16 map runs layer by layer). At 32×32 every fused block runs in runs of
// whole images; at 96×96 the early blocks' expanded maps outgrow an item and go in bands of rows. Hooks, train mode and recorded gradients keep the layers apart.
// MobileNetV3's blocks (ReLU or Hardswish, squeeze-and-excitation gated by Hardsigmoid) and
// EfficientNet's (SiLU, SE gated by Sigmoid) fuse the same way, every block of the two models, the
// squeeze-and-excitation taking whole images however large.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setInvertedResidualFusion } from '../../src/nn/inverted-residual-fusion.js';
import { InvertedResidual } from '../../src/models/mobilenet.js';
import { SqueezeExcitation } from '../../src/nn/squeeze_excitation.js';
import { BatchNorm2d } from '../../src/nn/norm.js';
import type { Module } from '../../src/nn/module.js';
import { Tensor, noGrad } from '../../src/tensor/tensor.js';
import { invertedResidual, invertedResidualPackCount } from '../../src/tensor/inverted-residual.js';
import { SGD } from '../../src/optim/sgd.js';
import { crossEntropy } from '../../src/tensor/loss.js';
import { countNativeCalls } from '../helpers/native-calls.js';
import { sineImages, deterministicModel } from '../helpers/zoo-inputs.js';
import { assertClose } from '../helpers/assert.js';

const WITHIN = { atol: 1e-4, rtol: 1e-4 };

/** fn's result and how many blocks ran through the fused kernel. */
const countFused = <T>(fn: () => T): [T, number] => countNativeCalls('invertedResidualForward', fn);

/** The logits layer by layer (whole-block fusion off, each Conv2d → BatchNorm2d → ReLU6 folded). */
function layerByLayer(model: Module, x: Tensor): Tensor {
  setInvertedResidualFusion(false);
  try {
    return noGrad(() => model.call(x));
  } finally {
    setInvertedResidualFusion(true);
  }
}

/** A whole model's eval through `blocks` fused blocks against the layer-by-layer and unfused logits. */
function wholeModel(name: string, n: number, side: number, blocks: number): void {
  it(`${name}, ${n} images of 3×${side}×${side}: the layer-by-layer and unfused logits, ${blocks} blocks fused`, () => {
    const model = deterministicModel(name).eval(), x = sineImages(n, side);
    const [fused, calls] = countFused(() => noGrad(() => model.call(x)));
    assert.equal(calls, blocks);
    const [layered, layeredCalls] = countFused(() => layerByLayer(model, x));
    assert.equal(layeredCalls, 0);
    assertClose(fused, layered, WITHIN, 'fused blocks against folded layers');
    assertClose(fused, model.call(x).detach(), WITHIN, 'fused blocks against the unfused path');
    assert.ok(fused.data.some((v) => Math.abs(v) > 0.1), 'logits of some size');
  });
}

describe('a whole mobilenet_v2 eval through fused inverted residual blocks', () => {
  wholeModel('mobilenet_v2', 5, 32, 16);
  wholeModel('mobilenet_v2', 2, 96, 17);

  it('packs each block\'s weights once per weight version and gives the bits of per-call packing', () => {
    const model = deterministicModel('mobilenet_v2').eval(), x = sineImages(4, 32);
    const before = invertedResidualPackCount();
    const first = noGrad(() => model.call(x));
    const packed = invertedResidualPackCount() - before;
    assert.equal(packed, 16, 'one packing per fused block');
    assert.deepEqual(noGrad(() => model.call(x)).data, first.data, 'the same logits from the reused packs');
    assert.equal(invertedResidualPackCount() - before, packed, 'a second eval reused them');
    model.train();
    crossEntropy(model.call(x), [1, 7, 0, 2]).backward();
    new SGD(model.parameters(), { lr: 0.01 }).step();
    model.eval();
    noGrad(() => model.call(x));
    assert.equal(invertedResidualPackCount() - before, 2 * packed, 'the step\'s new weights were packed again');
  });

  it('a hook on a layer inside a block keeps that block layer by layer and sees its output; train mode and recorded gradients fuse nothing', () => {
    const model = deterministicModel('mobilenet_v2').eval(), x = sineImages(3);
    const want = layerByLayer(model, x);
    const block = [...model.modules()].filter((m) => m instanceof InvertedResidual)[3];
    const depthwise = [...block.modules()].find((m) => m.typeName === 'Conv2d' && (m as unknown as { groups: number }).groups > 1)!;
    // Fused once first: each block's plan is kept, and the hook added after must still be seen.
    assert.equal(countFused(() => noGrad(() => model.call(x)))[1], 16);
    let seen: Tensor | undefined;
    const handle = depthwise.registerForwardHook((_m, _in, y) => { seen = y; });
    const [hooked, calls] = countFused(() => noGrad(() => model.call(x)));
    handle.remove();
    assert.equal(calls, 15);
    assert.equal(seen?.shape.length, 4);
    assertClose(hooked, want, WITHIN, 'one block unfused');
    assert.equal(countFused(() => noGrad(() => model.call(x)))[1], 16, 'the hook removed, the block fuses again');
    assert.equal(countFused(() => model.call(x))[1], 0, 'recorded gradients');
    model.train();
    assert.equal(countFused(() => noGrad(() => model.call(x)))[1], 0, 'train mode');
  });

  it('a block without expansion fuses at stride 1 on a 32×33 map (on NCHW planes, the residual added); at stride 2 or on a 31×33 map it runs layer by layer', () => {
    for (const [stride, h, want] of [[1, 32, 1], [2, 32, 0], [1, 31, 0]] as const) {
      const x = new Tensor(Float32Array.from({ length: 2 * 8 * h * 33 }, (_, i) => Math.sin(i * 0.37) * 2), [2, 8, h, 33]);
      const block = new InvertedResidual(8, 8, stride, 1).eval();
      const [fused, calls] = countFused(() => noGrad(() => block.call(x)));
      assert.equal(calls, want);
      assertClose(fused, layerByLayer(block, x), WITHIN, `stride ${stride}, ${h}×33 against folded layers`);
      assertClose(fused, block.call(x).detach(), WITHIN, `stride ${stride}, ${h}×33 against the unfused path`);
    }
  });

  it('a layer swapped after a fused call is what the next call runs (the kept plan follows the modules)', () => {
    const block = new InvertedResidual(8, 8, 1, 4).eval();
    const x = new Tensor(Float32Array.from({ length: 2 * 8 * 6 * 6 }, (_, i) => Math.sin(i * 0.37) * 2), [2, 8, 6, 6]);
    const [before, firstCalls] = countFused(() => noGrad(() => block.call(x)));
    assert.equal(firstCalls, 1);
    const other = new BatchNorm2d({ numFeatures: 8 }).eval();
    other.runningMean!.data.fill(0.5);
    other.runningVar!.data.fill(4);
    block.conv.registerModule(String([...block.conv.children()].length - 1), other);
    const [after, calls] = countFused(() => noGrad(() => block.call(x)));
    assert.equal(calls, 1);
    assertClose(after, layerByLayer(block, x), WITHIN, 'the new BatchNorm folded in');
    assert.ok(after.data.some((v, i) => Math.abs(v - before.data[i]) > 0.1), 'another output than before the swap');
  });

  it('refuses to record a gradient, and inputs that do not fit the block', () => {
    const t = (shape: number[], grad = false) => {
      const v = new Tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.1), shape);
      v.requiresGrad = grad;
      return v;
    };
    const dw = { weight: t([4, 1, 3, 3]), bias: null, stride: [1, 1] as [number, number], pads: [1, 1, 1, 1] as [number, number, number, number], dilation: [1, 1] as [number, number] };
    const expand = { weight: t([4, 2, 1, 1], true), bias: null };
    const project = { weight: t([2, 4, 1, 1]), bias: null };
    assert.throws(() => invertedResidual(t([1, 2, 3, 3]), expand, dw, project, true), /records no gradient/);
    const y = noGrad(() => invertedResidual(t([1, 2, 3, 3]), expand, dw, project, true));
    assert.deepEqual(y.shape, [1, 2, 3, 3]);
    assert.throws(() => noGrad(() => invertedResidual(t([1, 3, 3, 3]), expand, dw, project, false)), /expand weight \[4, 2, 1, 1\] should be \[4, 3, 1, 1\]/);
    assert.throws(() => noGrad(() => invertedResidual(t([1, 2, 3, 3]), null, dw, project, false)), /without expansion/);
    assert.throws(() => noGrad(() => invertedResidual(t([1, 2, 3, 3]), expand, { ...dw, stride: [2, 2] }, project, true)), /cannot add the input/);
  });
});

describe('MobileNetV3 and EfficientNet eval through fused blocks with squeeze-and-excitation', () => {
  wholeModel('mobilenet_v3_small', 3, 32, 11);
  wholeModel('efficientnet_b0', 2, 32, 16);
  wholeModel('mobilenet_v3_small', 1, 64, 11);

  it('a hook inside a squeeze-and-excitation keeps its block layer by layer and sees its output; train mode fuses nothing', () => {
    const model = deterministicModel('efficientnet_b0').eval(), x = sineImages(2);
    const want = layerByLayer(model, x);
    const se = [...model.modules()].filter((m) => m instanceof SqueezeExcitation)[5];
    let seen: Tensor | undefined;
    const handle = se.fc1.registerForwardHook((_m, _in, y) => { seen = y; });
    const [hooked, calls] = countFused(() => noGrad(() => model.call(x)));
    handle.remove();
    assert.equal(calls, 15);
    assert.deepEqual(seen?.shape, [2, se.fc1.outChannels, 1, 1]);
    assertClose(hooked, want, WITHIN, 'one block unfused');
    model.train();
    assert.equal(countFused(() => noGrad(() => model.call(x)))[1], 0, 'train mode');
  });

  it('refuses squeeze-and-excitation weights that do not fit the block, and unknown gates', () => {
    const t = (shape: number[]) => new Tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.1), shape);
    const dw = { weight: t([4, 1, 3, 3]), bias: null, stride: [1, 1] as [number, number], pads: [1, 1, 1, 1] as [number, number, number, number], dilation: [1, 1] as [number, number] };
    const expand = { weight: t([4, 2, 1, 1]), bias: null, gate: 'silu' as const };
    const project = { weight: t([2, 4, 1, 1]), bias: null };
    const se = { fc1: { weight: t([3, 4, 1, 1]), bias: t([3]), gate: 'silu' as const }, fc2: { weight: t([4, 3, 1, 1]), bias: t([4]) } };
    const y = noGrad(() => invertedResidual(t([1, 2, 3, 3]), expand, { ...dw, se }, project, true));
    assert.deepEqual(y.shape, [1, 2, 3, 3]);
    assert.throws(() => noGrad(() => invertedResidual(t([1, 2, 3, 3]), expand, { ...dw, se: { ...se, fc2: { weight: t([4, 2, 1, 1]), bias: null } } }, project, true)),
      /fc2 weight \[4, 2, 1, 1\] should be \[4, 3, 1, 1\]/);
    assert.throws(() => noGrad(() => invertedResidual(t([1, 2, 3, 3]), expand, { ...dw, se: { ...se, fc1: { ...se.fc1, bias: t([4]) } } }, project, true)),
      /fc1 bias \[4\] should be \[3\]/);
    assert.throws(() => noGrad(() => invertedResidual(t([1, 2, 3, 3]), { ...expand, gate: 'gelu' as 'silu' }, dw, project, true)),
      /expandGate must be 'silu', 'hardswish', 'hardsigmoid' or 'sigmoid', not 'gelu'/);
  });
});
