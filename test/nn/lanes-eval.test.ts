// Eval through the channels-in-lanes loops (native/conv/conv_lanes.h) with the weights reordered once
// per weight version and reused (lanes-weights.ts): resnet18 at 32×32 (its 8×8 and 4×4 layers) and a
// 256-channel layer on 4×4 maps give the logits of the pinned GEMM path, a second batch reorders
// nothing, an optimizer step's new weights are reordered again, and a copy reordered for another ISA
// is not used as it is. (build/Release/kernel_tests checks the loops against conv2d_ref on every ISA.)
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Conv2d } from '../../src/nn/conv.js';
import { Tensor, noGrad } from '../../src/tensor/tensor.js';
import { Generator } from '../../src/tensor/random.js';
import { native } from '../../src/tensor/native.js';
import { conv2dParams } from '../../src/tensor/ops.js';
import { crossEntropy } from '../../src/tensor/loss.js';
import { SGD } from '../../src/optim/sgd.js';
import { lanesReorderCount } from '../../src/tensor/lanes-weights.js';
import { fillDeterministic } from '../helpers/deterministic-weights.js';
import { sineImages, deterministicModel } from '../helpers/zoo-inputs.js';
import { assertClose } from '../helpers/assert.js';

const WITHIN = { atol: 1e-4, rtol: 1e-4 };

function pinned<T>(fn: () => T): T {
  native.setConvAlgo('batched');
  try {
    return fn();
  } finally {
    native.setConvAlgo('auto');
  }
}

it('resnet18 at 32×32 reorders its lanes layers once and gives the pinned path\'s logits, and again after a step', () => {
  const model = deterministicModel('resnet18').eval(), x = sineImages(8);
  const before = lanesReorderCount();
  const got = noGrad(() => model.call(x));
  const reordered = lanesReorderCount() - before;
  assert.ok(reordered > 0, 'some layer ran by the lanes loops');
  assertClose(got, pinned(() => noGrad(() => model.call(x))), WITHIN, 'logits');
  noGrad(() => model.call(sineImages(8, 32, 1)));
  assert.equal(lanesReorderCount() - before, reordered, 'a second batch reordered again');
  const optimizer = new SGD(model.parameters(), { lr: 0.05 });
  model.train();
  crossEntropy(model.call(x), [1, 7, 0, 2, 4, 6, 8, 3]).backward();
  optimizer.step();
  model.eval();
  const after = noGrad(() => model.call(x));
  assert.equal(lanesReorderCount() - before, 2 * reordered, 'the step\'s new weights were reordered');
  assertClose(after, pinned(() => noGrad(() => model.call(x))), WITHIN, 'logits after a step');
});

it('256 channels on 4×4 maps: the cached reorder gives the per-call one\'s bits; a copy tagged for another ISA is reordered again', () => {
  const conv = new Conv2d({ inChannels: 256, outChannels: 256, kernelSize: 3, padding: 1 }).eval();
  fillDeterministic(conv);
  const x = Tensor.randn([2, 256, 4, 4], { generator: new Generator(3) });
  const p = conv2dParams(x.shape, conv.weight.shape, { padding: [1, 1, 1, 1] });
  const floats = native.conv2dLanesFloats(p, 2);
  assert.ok(floats > 0, 'rows of 4 pixels take the lanes loops on every ISA');
  const out = () => new Float32Array(2 * 256 * 16);
  const perCall = out(), cached = out(), stale = out();
  native.conv2dForward(p, x.data, conv.weight.data, conv.bias!.data, perCall, 2);
  const lanes = new Float32Array(floats);
  native.conv2dLanesWeights(p, conv.weight.data, lanes, 2);
  native.conv2dForward({ ...p, lanes }, x.data, conv.weight.data, conv.bias!.data, cached, 2);
  assert.deepEqual(cached, perCall);
  // Another ISA's tag, and its blocks zeroed: the call must not multiply them.
  const wrong = lanes.map((v, i) => (i === lanes.length - 1 ? v + 1 : 0));
  native.conv2dForward({ ...p, lanes: wrong }, x.data, conv.weight.data, conv.bias!.data, stale, 2);
  assert.deepEqual(stale, perCall);
  assertClose(perCall, noGrad(() => pinned(() => conv.call(x))).data, WITHIN, 'against the pinned path');
});

it('regnet_y_400mf at 32×32: its grouped layers (groups of 8 channels) give the pinned path\'s logits, by the lanes where 8 channels are whole vectors', () => {
  const model = deterministicModel('regnet_y_400mf').eval(), x = sineImages(4);
  const before = lanesReorderCount();
  const got = noGrad(() => model.call(x));
  // AVX-512's blocks of 16 channels would span two groups: there the grouped layers take other paths.
  assert.equal(lanesReorderCount() > before, native.cpuInfo().active !== 'avx512', 'grouped layers ran by the lanes loops');
  assertClose(got, pinned(() => noGrad(() => model.call(x))), WITHIN, 'logits');
});
