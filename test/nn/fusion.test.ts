// Eval-mode fusion (BatchNorm folded into the convolution before it, ReLU/ReLU6 applied in
// place) gives the unfused logits within 1e-4 on every zoo model, keeps doing so after weights
// change (optimizer steps, loadStateDict, train()/eval()), and leaves hooks their intermediates.
import { describe, it } from 'node:test';
import { BatchNorm2d } from '../../src/nn/norm.js';
import assert from 'node:assert/strict';
import { MODELS, buildModel } from '../../src/models/registry.js';
import { withoutInit } from '../../src/nn/init.js';
import { Conv2d } from '../../src/nn/conv.js';
import { Sequential, Identity, flatten } from '../../src/nn/container.js';
import { Linear } from '../../src/nn/linear.js';
import { ReLU, ReLU6 } from '../../src/nn/activation.js';
import { AvgPool2d, MaxPool2d } from '../../src/nn/pool.js';
import { maxPool2d } from '../../src/tensor/pool.js';
import { hasFoldedWeights } from '../../src/nn/fusion.js';
import { setInvertedResidualFusion } from '../../src/nn/inverted-residual-fusion.js';
import type { Module } from '../../src/nn/module.js';
import { Tensor, noGrad } from '../../src/tensor/tensor.js';
import { cat } from '../../src/tensor/channels.js';
import { conv2d } from '../../src/tensor/ops.js';
import { native } from '../../src/tensor/native.js';
import { crossEntropy } from '../../src/tensor/loss.js';
import { SGD } from '../../src/optim/sgd.js';
import { gradCam, featureMaps } from '../../src/viz/gradcam.js';
import { fillDeterministic } from '../helpers/deterministic-weights.js';
import { assertClose } from '../helpers/assert.js';

const WITHIN = { atol: 1e-4, rtol: 1e-4 };

function image(shape: readonly number[], phase = 0): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(0.37 * ((i * i) % 10007) + phase);
  return new Tensor(data, [1, ...shape]);
}

function zooModel(name: string): { model: Module; x: Tensor } {
  const input = name === 'lenet5' ? [1, 28, 28] : [3, 32, 32];
  const model = withoutInit(() => buildModel(name, { numClasses: 10, inChannels: input[0] }));
  fillDeterministic(model, name.startsWith('resnet') && name !== 'resnet18' ? 1.2 : 1.5);
  return { model: model.eval(), x: image(input) };
}

const foldedConvs = (model: Module) => [...model.modules()].filter((m) => m instanceof Conv2d && hasFoldedWeights(m)).length;

/** Eval with gradients recorded runs unfused; under noGrad it runs fused. */
function checkFused(model: Module, x: Tensor, label: string): void {
  const unfused = model.call(x).detach();
  const fused = noGrad(() => model.call(x));
  assertClose(fused, unfused, WITHIN, label);
}

describe('eval-mode fusion gives the unfused logits', () => {
  for (const name of MODELS.keys()) {
    it(name, () => {
      const { model, x } = zooModel(name);
      checkFused(model, x, name);
      const hasConvBn = [...model.modules()].some((m) => m.typeName === 'BatchNorm2d');
      if (hasConvBn) assert.ok(foldedConvs(model) > 0, `${name}: some convolution ran folded`);
    });
  }
});

describe('the activation is the convolution\'s epilogue', () => {
  it('resnet18: each conv → bn → relu and each block\'s conv → bn → + identity → relu runs as one convolution, no add or ReLU pass', () => {
    const { model, x } = zooModel('resnet18');
    const calls = { clamped: 0, residual: 0, relu: 0, add: 0 };
    const { conv2dForward, reluForward, binary } = native;
    native.conv2dForward = (p, ...rest) => {
      if (p.clamp) assert.deepEqual(p.clamp, [0, Infinity]), calls.clamped++;
      if (p.residual) calls.residual++;
      return conv2dForward(p, ...rest);
    };
    native.binary = (...args) => (calls.add++, binary(...args));
    native.reluForward = (...args) => (calls.relu++, reluForward(...args));
    try {
      noGrad(() => model.call(x));
    } finally {
      Object.assign(native, { conv2dForward, reluForward, binary });
    }
    // The stem and the 8 basic blocks' two convolutions; the second takes the identity.
    assert.deepEqual(calls, { clamped: 17, residual: 8, relu: 0, add: 0 });
  });

  it('mobilenet_v2: each inverted residual\'s projection takes x as its epilogue\'s residual, no add pass', () => {
    const { model, x } = zooModel('mobilenet_v2');
    const calls = { residual: 0, add: 0 };
    const { conv2dForward, binary } = native;
    native.conv2dForward = (p, ...rest) => (p.residual && calls.residual++, conv2dForward(p, ...rest));
    native.binary = (...args) => (calls.add++, binary(...args));
    setInvertedResidualFusion(false);  // layer by layer (whole blocks: inverted-residual-fusion.test.ts)
    try {
      noGrad(() => model.call(x));
    } finally {
      Object.assign(native, { conv2dForward, binary });
      setInvertedResidualFusion(true);
    }
    // torchvision's 10 blocks with stride 1 and inp == oup; at 32×32 the last 2 see 1×1 maps, where
    // the projection is one matrix product that adds the residual itself (no conv2dForward call).
    assert.deepEqual(calls, { residual: 8, add: 0 });
  });

  it('conv2d adds a residual and clamps without recording, and refuses both where it would record a gradient', () => {
    const w = new Tensor(new Float32Array(2 * 3 * 9).fill(0.1), [2, 3, 3, 3]);
    w.requiresGrad = true;
    const x = image([3, 5, 5]);
    assert.throws(() => conv2d(x, w, null, { padding: [1, 1, 1, 1], clamp: [0, Infinity] }), /clamp and residual are an inference epilogue/);
    const residual = image([2, 5, 5], 1);
    assert.throws(() => conv2d(x, w, null, { padding: [1, 1, 1, 1], residual }), /clamp and residual are an inference epilogue/);
    const y = noGrad(() => conv2d(x, w, null, { padding: [1, 1, 1, 1], clamp: [0, 0.2], residual }));
    const plain = conv2d(x, w, null, { padding: [1, 1, 1, 1] }).detach().data;
    assertClose(y, plain.map((v, i) => Math.min(Math.max(v + residual.data[i], 0), 0.2)), WITHIN, 'residual added, then clamped');
    assert.throws(() => noGrad(() => conv2d(x, w, null, { padding: [1, 1, 1, 1], residual: image([2, 5, 4]) })),
      /residual \[1, 2, 5, 4\] does not match the output \[1, 2, 5, 5\]/);
    // 1×1 maps (ResNet's last stage at 32×32): one matrix product over the batch, then the residual and the clamp.
    const pixels = new Tensor(Float32Array.from({ length: 4 * 3 }, (_, i) => Math.sin(i)), [4, 3, 1, 1]);
    const w1 = new Tensor(Float32Array.from({ length: 2 * 3 }, (_, i) => Math.cos(i)), [2, 3, 1, 1]);
    const b1 = new Tensor(Float32Array.of(0.1, -0.2), [2]);
    const r1 = new Tensor(Float32Array.from({ length: 4 * 2 }, (_, i) => 0.3 * Math.sin(3 * i)), [4, 2, 1, 1]);
    const fused = noGrad(() => conv2d(pixels, w1, b1, { clamp: [0, 0.5], residual: r1 }));
    const unfused = conv2d(pixels, w1, b1).data;
    assertClose(fused, unfused.map((v, i) => Math.min(Math.max(v + r1.data[i], 0), 0.5)), WITHIN, '1x1 maps: residual added, then clamped');
  });
});

describe('without BatchNorm, the activation still fuses', () => {
  /** Counts the calls of the bindings fusion replaces or changes while fn runs. */
  function countCalls(fn: () => void) {
    const calls = { clampedConv: 0, convPooled: 0, relu: 0, reluInPlace: 0, hardtanh: 0, poolWithoutIndices: 0, poolClamped: 0, linearChain: 0 };
    const { conv2dForward, conv2dMaxPoolForward, reluForward, hardtanhForward, maxPool2dForward, linearChainForward } = native;
    native.linearChainForward = (...args) => (calls.linearChain++, linearChainForward(...args));
    native.conv2dForward = (p, ...rest) => (p.clamp && calls.clampedConv++, conv2dForward(p, ...rest));
    native.conv2dMaxPoolForward = (p, ...rest) => {
      const ran = conv2dMaxPoolForward(p, ...rest);
      if (ran && p.clamp) calls.convPooled++;
      return ran;
    };
    native.reluForward = (x, y, threads) => (x === y ? calls.reluInPlace++ : calls.relu++, reluForward(x, y, threads));
    native.hardtanhForward = (...args) => (calls.hardtanh++, hardtanhForward(...args));
    native.maxPool2dForward = (p, x, y, indices, threads) => {
      if (indices === null) calls.poolWithoutIndices++;
      if (p.clamp) calls.poolClamped++;
      return maxPool2dForward(p, x, y, indices, threads);
    };
    try {
      fn();
    } finally {
      Object.assign(native, { conv2dForward, conv2dMaxPoolForward, reluForward, hardtanhForward, maxPool2dForward, linearChainForward });
    }
    return calls;
  }

  it('lenet5: conv → relu → pool is one clamped, pooled convolution, the classifier one linear chain; the logits are the unfused ones bit for bit', () => {
    const { model, x } = zooModel('lenet5');
    const batch = cat([0, 1, 2, 3].map((phase) => image(x.shape.slice(1), phase)), 0);
    const unfused = model.call(batch).detach();
    let fused = batch;
    // Two convolutions take their ReLU and pool; the classifier's three Linear layers and two ReLUs are one chain
    // (the layers as LeNet5's forward runs them where the whole network may not be one call: small-network.test.ts).
    const { features, classifier } = model as unknown as { features: Sequential; classifier: Sequential };
    assert.deepEqual(countCalls(() => { fused = noGrad(() => classifier.call(flatten(features.call(batch)))); }),
      { clampedConv: 0, convPooled: 2, relu: 0, reluInPlace: 0, hardtanh: 0, poolWithoutIndices: 0, poolClamped: 0, linearChain: 1 });
    assertClose(fused, unfused, { atol: 0, rtol: 0 }, 'lenet5 logits');
  });

  for (const [name, act] of [['ReLU', () => new ReLU()], ['ReLU6', () => new ReLU6()]] as const) {
    it(`${name} → MaxPool2d with no convolution before it pools first and clamps the output: the unfused values`, () => {
      const x = image([3, 11, 14]);
      for (let i = 0; i < x.size; i++) x.data[i] *= 8;  // some above ReLU6's 6
      const seq = new Sequential(new Identity(), act(), new MaxPool2d({ kernelSize: 3, stride: 2, padding: 1 }));
      const unfused = seq.call(x).detach();
      let fused = x;
      const calls = countCalls(() => { fused = noGrad(() => seq.call(x)); });
      assert.deepEqual(calls, { clampedConv: 0, convPooled: 0, relu: 0, reluInPlace: 0, hardtanh: 0, poolWithoutIndices: 1, poolClamped: 1, linearChain: 0 });
      assertClose(fused, unfused, { atol: 0, rtol: 0 }, `${name} then max pool`);
      // A hook on the activation sees its own output: the layers run one by one.
      let seen: Tensor | undefined;
      const handle = seq.at(1).registerForwardHook((_m, _in, y) => { seen = y; });
      const hooked = countCalls(() => { fused = noGrad(() => seq.call(x)); });
      handle.remove();
      assert.equal(hooked.poolClamped, 0);
      assert.equal(seen?.size, x.size);
      assertClose(fused, unfused, { atol: 0, rtol: 0 }, `${name} then max pool, hooked`);
    });
  }

  it('Linear → ReLU6 clamps the product as it is stored (a linear chain); a hook on the activation or a recorded gradient keeps the layers apart', () => {
    const x = image([5, 7]).reshape([5, 7]);
    const seq = new Sequential(new Linear({ inFeatures: 7, outFeatures: 9 }), new ReLU6());
    for (let i = 0; i < seq.at(0).parameters()[0].size; i++) seq.at(0).parameters()[0].data[i] *= 20;  // some above 6
    const unfused = seq.call(x).detach();
    let fused = x;
    assert.equal(countCalls(() => { fused = noGrad(() => seq.call(x)); }).linearChain, 1);
    assertClose(fused, unfused, { atol: 0, rtol: 0 }, 'linear then relu6');
    assert.ok(unfused.data.some((v) => v === 6) && unfused.data.some((v) => v === 0), 'both ends of the clamp reached');
    let seen: Tensor | undefined;
    const handle = seq.at(1).registerForwardHook((_m, inputs) => { seen = inputs[0]; });
    noGrad(() => seq.call(x));
    handle.remove();
    assert.ok(seen && seen.data.some((v) => v > 6 || v < 0), 'the hook saw the product before the clamp');
  });

  it('maxPool2d refuses a clamp where it would record a gradient', () => {
    const x = image([2, 4, 4]);
    x.requiresGrad = true;
    assert.throws(() => maxPool2d(x, { kernelSize: [2, 2], clamp: [0, Infinity] }), /clamp is an inference epilogue/);
    assertClose(noGrad(() => maxPool2d(x, { kernelSize: [2, 2], clamp: [0, 0.5] })),
      maxPool2d(x, { kernelSize: [2, 2] }).detach().data.map((v) => Math.min(Math.max(v, 0), 0.5)), WITHIN, 'clamped');
  });
});

describe('a pointwise convolution before an average pool of separate windows runs after it', () => {
  /** fn's output and the input heights the convolutions ran on. */
  function convHeights(fn: () => Tensor): [Tensor, number[]] {
    const heights: number[] = [];
    const { conv2dForward } = native;
    native.conv2dForward = (p, ...rest) => (heights.push(p.h), conv2dForward(p, ...rest));
    try {
      return [fn(), heights];
    } finally {
      native.conv2dForward = conv2dForward;
    }
  }
  const conv = (k = 1, bias = true, groups = 1) => {
    const c = new Conv2d({ inChannels: 6, outChannels: 4, kernelSize: k, bias, groups });
    fillDeterministic(c, 1.3);
    return c;
  };
  const unfused = (layers: Module[], x: Tensor) => noGrad(() => layers.reduce((t, m) => m.forward(t), x));

  it('on the pooled map, giving the layer-by-layer output: odd sizes, ceil mode, groups, a bias, counting or not the padding', () => {
    const x = image([6, 9, 7]).reshape([1, 6, 9, 7]);
    const xs = cat([x, image([6, 9, 7], 1).reshape([1, 6, 9, 7])], 0);
    for (const pool of [new AvgPool2d({ kernelSize: 2 }), new AvgPool2d({ kernelSize: 3, ceilMode: true }), new AvgPool2d({ kernelSize: [2, 3], stride: [2, 3], countIncludePad: false })]) {
      for (const c of [conv(), conv(1, false, 2)]) {
        const model = new Sequential(c, pool).eval();
        const [y, heights] = convHeights(() => noGrad(() => model.call(xs)));
        assert.deepEqual(heights, [pool.ceilMode ? 3 : Math.floor(9 / pool.kernelSize[0])]);
        assertClose(y, unfused([c, pool], xs), { atol: 1e-5, rtol: 1e-5 }, `${pool.extraRepr()} groups=${c.groups}`);
      }
    }
  });

  it('not where the windows overlap or pad, a divisor overrides, the kernel is 3×3, a hook watches or a gradient is recorded', () => {
    const x = image([6, 8, 8]);
    const cases: [Module, Module][] = [
      [conv(), new AvgPool2d({ kernelSize: 3, stride: 2 })],
      [conv(), new AvgPool2d({ kernelSize: 2, padding: 1 })],
      [conv(), new AvgPool2d({ kernelSize: 2, divisorOverride: 3 })],
      [conv(3), new AvgPool2d({ kernelSize: 2 })],
    ];
    for (const [c, pool] of cases) {
      const [y, heights] = convHeights(() => noGrad(() => new Sequential(c, pool).eval().call(x)));
      assert.deepEqual(heights, [8]);
      assertClose(y, unfused([c, pool], x), { atol: 0, rtol: 0 }, pool.extraRepr());
    }
    const [c, pool] = [conv(), new AvgPool2d({ kernelSize: 2 })];
    const hook = pool.registerForwardHook(() => undefined);
    assert.deepEqual(convHeights(() => noGrad(() => new Sequential(c, pool).eval().call(x)))[1], [8]);
    hook.remove();
    assert.deepEqual(convHeights(() => new Sequential(c, pool).eval().call(x))[1], [8]);
  });
});

describe('folded weights follow weight changes', () => {
  for (const name of ['resnet18', 'mobilenet_v2']) {
    it(`${name}: after optimizer steps in train mode and in eval mode`, () => {
      const { model, x } = zooModel(name);
      checkFused(model, x, `${name} before training`);
      const optimizer = new SGD(model.parameters(), { lr: 1e-3 });
      const batch = cat([1, 2, 3, 4, 5, 6, 7, 8].map((phase) => image(x.shape.slice(1), phase)), 0);
      const step = () => {
        optimizer.zeroGrad();
        crossEntropy(model.call(batch), [1, 3, 5, 7, 0, 2, 4, 6]).backward();
        optimizer.step();
      };
      model.train();
      step();
      step();
      model.eval();
      checkFused(model, x, `${name} after train-mode steps`);
      const beforeStep = noGrad(() => model.call(x));
      step(); // fine-tuning with BatchNorm frozen: eval mode throughout
      checkFused(model, x, `${name} after an eval-mode step`);
      const afterStep = noGrad(() => model.call(x));
      assert.ok(afterStep.data.some((v, i) => Math.abs(v - beforeStep.data[i]) > 1e-3), `${name}: the eval-mode step changed the fused logits`);
    });
  }

  it('resnet18: after loadStateDict in eval mode', () => {
    const { model, x } = zooModel('resnet18');
    const before = noGrad(() => model.call(x));
    const other = withoutInit(() => buildModel('resnet18', { numClasses: 10 }));
    fillDeterministic(other, 1.1);
    model.loadStateDict(other.stateDict());
    const after = noGrad(() => model.call(x));
    assertClose(after, noGrad(() => other.eval().call(x)), WITHIN, 'the loaded weights');
    assert.ok(Math.max(...before.data.map((v, i) => Math.abs(v - after.data[i]))) > 1e-3, 'the logits changed');
  });
});

describe('folded weights follow a new BatchNorm epsilon', () => {
  for (const name of ['resnet18', 'densenet121']) {
    it(`${name}: eps set on every BatchNorm after a fused eval is folded into the next`, () => {
      const { model, x } = zooModel(name);
      const before = noGrad(() => model.call(x));
      // eps is readonly to TypeScript; JavaScript (and PyTorch) may set it.
      for (const m of model.modules()) if (m instanceof BatchNorm2d) (m as { eps: number }).eps = 0.5;
      const after = noGrad(() => model.call(x));
      checkFused(model, x, `${name} with eps 0.5`);
      assert.ok(Math.max(...before.data.map((v, i) => Math.abs(v - after.data[i]))) > 1e-3, 'the logits changed');
    });
  }
});

describe('hooks keep their intermediates', () => {
  it('featureMaps of a BatchNorm and a ReLU inside a fused run equal the unfused ones', () => {
    const { model, x } = zooModel('resnet18');
    noGrad(() => model.call(x));
    const layers = ['bn1', 'layer1.0.bn2', 'layer2.0.relu'];
    const got = featureMaps(model, x, layers);
    const want = new Map<string, Tensor>();
    const handles = layers.map((l) => model.getSubmodule(l)!.registerForwardHook((_m, _in, y) => { want.set(l, y.detach()); }));
    model.call(x);
    for (const h of handles) h.remove();
    for (const l of layers) assertClose(got.get(l)!, want.get(l)!, WITHIN, l);
  });

  it('gradCam gives the same map whether or not a fused eval ran before', () => {
    const { model, x } = zooModel('resnet18');
    const first = gradCam(model, x, { layer: 'layer4.1.conv2' });
    noGrad(() => model.call(x));
    const second = gradCam(model, x, { layer: 'layer4.1.conv2' });
    assert.equal(second.classIndex, first.classIndex);
    assertClose(second.cam, first.cam, { atol: 0, rtol: 0 }, 'cam');
  });
});
