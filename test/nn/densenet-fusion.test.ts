// DenseNet in eval: each block's features live in one tensor that every layer reads its input
// from and writes its new channels into, and each layer's norm1 → relu1 → conv1 (norm2 folded,
// relu2 its epilogue) runs as one pointwise convolution mapping its input as it reads it
// (conv2dMapped), or on maps of at most four pixels the whole layer as one call
// (denseLayerSmallForward): no gather of the features and no concatenation. The logits are the
// unfused ones (recorded gradients: torchvision's layer by layer), whichever path a layer takes.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { Conv2d } from '../../src/nn/conv.js';
import { Tensor, noGrad } from '../../src/tensor/tensor.js';
import { native, getThreads, setThreads } from '../../src/tensor/native.js';
import { conv2d } from '../../src/tensor/ops.js';
import { conv2dMapped } from '../../src/tensor/conv-mapped.js';
import { leadingChannelsAffine, affineAvgPool2x2 } from '../../src/tensor/channels.js';
import { avgPool2d } from '../../src/tensor/pool.js';
import { hardtanh } from '../../src/tensor/ops.js';
import { Generator } from '../../src/tensor/random.js';
import { sineImages, deterministicModel } from '../helpers/zoo-inputs.js';
import { fillDeterministic } from '../helpers/deterministic-weights.js';
import { countNativeCalls } from '../helpers/native-calls.js';
import { assertClose } from '../helpers/assert.js';

const WITHIN = { atol: 1e-4, rtol: 1e-4 };
const previousThreads = getThreads();
after(() => setThreads(previousThreads));

/** fn's result, how many mapped convolutions ran (true), how many gathers copied features out and how many layers ran whole. */
function paths<T>(fn: () => T): { out: T; mapped: number; gathers: number; whole: number } {
  let mapped = 0;
  const original = native.conv2dMappedForward;
  native.conv2dMappedForward = (...args) => {
    const ran = original(...args);
    if (ran) mapped++;
    return ran;
  };
  try {
    const [[out, gathers], whole] = countNativeCalls('denseLayerSmallForward', () => countNativeCalls('copyRowsAffine', fn));
    return { out, mapped, gathers, whole };
  } finally {
    native.conv2dMappedForward = original;
  }
}

describe('densenet121 eval', () => {
  it('maps every layer\'s input as conv1 reads it, and gives the unfused logits', () => {
    setThreads(2);
    const model = deterministicModel('densenet121').eval(), x = sineImages(16);
    const unfused = model.call(x).detach();
    const { out, mapped, gathers, whole } = paths(() => noGrad(() => model.call(x)));
    assert.equal(mapped, 6 + 12, 'the 8×8 and 4×4 blocks\' layers');
    assert.equal(whole, 24 + 16, 'the 2×2 and 1×1 blocks\' layers');
    assert.equal(gathers, 0);
    assertClose(out, unfused, WITHIN, 'logits');
    const [, pooled] = countNativeCalls('affineAvgPool2x2', () => noGrad(() => model.call(x)));
    assert.equal(pooled, 3, 'each transition pools before its convolution');
  });

  it('gathers where the by-image path declines (too few images for its threads), with the same logits', () => {
    setThreads(2);
    const model = deterministicModel('densenet121').eval(), x = sineImages(2);
    const unfused = model.call(x).detach();
    const { out, mapped, gathers, whole } = paths(() => noGrad(() => model.call(x)));
    assert.equal(mapped, 0);
    assert.equal(gathers, 6 + 12);
    assert.equal(whole, 24 + 16);
    assertClose(out, unfused, WITHIN, 'logits');
  });
});

describe('conv2dMapped', () => {
  const conv = (k: number) => {
    const c = new Conv2d({ inChannels: 5, outChannels: 7, kernelSize: k, padding: (k - 1) / 2 });
    fillDeterministic(c, 1.2);
    return c;
  };
  const features = Tensor.randn([12, 9, 4, 4]);
  const map = { channels: 5, scale: Float32Array.from([1, -0.5, 2, 0.25, 1.5]), shift: Float32Array.from([0.1, 0, -0.3, 0.2, 0]), clamp: [0, 6] as [number, number] };

  it('equals the map over the leading channels, then the convolution and its clamp', () => {
    setThreads(1);
    const c = conv(1);
    const got = noGrad(() => conv2dMapped(features, map, c.weight, c.bias, [0, Infinity]));
    assert.ok(got, 'the by-image path took it');
    const want = noGrad(() => conv2d(leadingChannelsAffine(features, 5, map.scale, map.shift, map.clamp), c.weight, c.bias, { clamp: [0, Infinity] }));
    assertClose(got, want, { atol: 1e-5, rtol: 1e-5 }, 'mapped');
  });

  it('declines a 3×3 kernel, and refuses a gradient or channels the input lacks', () => {
    const c = conv(3);
    assert.equal(noGrad(() => conv2dMapped(features, map, c.weight, c.bias)), null);
    const c1 = conv(1);
    assert.throws(() => conv2dMapped(features, map, c1.weight, c1.bias), /records no gradient/);
    assert.throws(() => noGrad(() => conv2dMapped(features, { ...map, channels: 10 }, c1.weight, c1.bias)), /10 leading channels/);
  });
});

describe('densenet transitions in eval', () => {
  it('pool first in one pass with BN → ReLU, then convolve: the unfused output', () => {
    const model = deterministicModel('densenet121').eval();
    const transition = model.getSubmodule('features.transition1')!;
    const x = Tensor.randn([3, 256, 6, 5], { generator: new Generator(7) });
    const unfused = transition.call(x).detach();
    const [got, pooled] = countNativeCalls('affineAvgPool2x2', () => noGrad(() => transition.call(x)));
    assert.equal(pooled, 1);
    assert.deepEqual(got.shape, [3, 128, 3, 2]);
    assertClose(got, unfused, WITHIN, 'transition1');
  });

  it('keep torchvision\'s order where a hook on the convolution would see its input', () => {
    const model = deterministicModel('densenet121').eval();
    const transition = model.getSubmodule('features.transition1')!, conv = model.getSubmodule('features.transition1.conv')!;
    const seen: number[][] = [];
    conv.registerForwardHook((_m, inputs) => { seen.push([...inputs[0].shape]); });
    const [, pooled] = countNativeCalls('affineAvgPool2x2', () => noGrad(() => transition.call(Tensor.randn([2, 256, 8, 8]))));
    assert.equal(pooled, 0);
    assert.deepEqual(seen, [[2, 256, 8, 8]]);
  });
});

describe('affineAvgPool2x2', () => {
  for (const shape of [[3, 5, 8, 8], [4, 6, 4, 4], [2, 7, 2, 2], [2, 3, 5, 7], [1, 2, 3, 2], [2, 40, 10, 12]]) {
    for (const clamp of [undefined, [0, 6] as [number, number]]) {
      it(`equals AvgPool2d(2) of the clamped map on ${shape.join('x')}${clamp ? ' clamped to [0, 6]' : ''}`, () => {
        const g = new Generator(shape.reduce((a, b) => a + b, 0));
        const x = Tensor.randn(shape, { generator: g }), c = shape[1];
        x.data.forEach((v, i, a) => { a[i] = 3 * v; });
        const scale = Float32Array.from({ length: c }, (_, i) => 0.5 + i / c), shift = Float32Array.from({ length: c }, (_, i) => i / c - 0.5);
        const mapped = noGrad(() => leadingChannelsAffine(x, c, scale, shift, clamp));
        const want = avgPool2d(clamp ? hardtanh(mapped, clamp[0], clamp[1]) : mapped, { kernelSize: [2, 2], stride: [2, 2] });
        assertClose(noGrad(() => affineAvgPool2x2(x, scale, shift, clamp)), want, { atol: 1e-6, rtol: 1e-6 }, 'pooled');
      });
    }
  }

  it('refuses maps smaller than a window, a gradient and scales of another length', () => {
    assert.throws(() => noGrad(() => affineAvgPool2x2(Tensor.randn([1, 2, 1, 4]), new Float32Array(2), new Float32Array(2))), /H >= 2, W >= 2/);
    assert.throws(() => affineAvgPool2x2(Tensor.randn([1, 2, 2, 2], { requiresGrad: true }), new Float32Array(2), new Float32Array(2)), /records no gradient/);
    assert.throws(() => noGrad(() => affineAvgPool2x2(Tensor.randn([1, 2, 2, 2]), new Float32Array(3), new Float32Array(2))), /2 channels but 3 scales/);
  });
});
