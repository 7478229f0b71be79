// Eval's whole small network as one native call (src/nn/small-network.ts): LeNet-5 and
// Sequentials of the same form give the layers' own values bit for bit on every ISA, batch size
// and thread count; the layers run one by one where a hook, a recorded gradient, Dropout in
// training or a pinned convolution algorithm needs them; changed weights are used at once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Sequential, Flatten } from '../../src/nn/container.js';
import { Conv2d } from '../../src/nn/conv.js';
import { Linear } from '../../src/nn/linear.js';
import { ReLU, ReLU6 } from '../../src/nn/activation.js';
import { MaxPool2d } from '../../src/nn/pool.js';
import { Dropout } from '../../src/nn/dropout.js';
import { Parameter } from '../../src/nn/parameter.js';
import { uniform_ } from '../../src/nn/init.js';
import type { Module } from '../../src/nn/module.js';
import { LeNet5 } from '../../src/models/lenet.js';
import { Tensor, noGrad } from '../../src/tensor/tensor.js';
import { native, setThreads } from '../../src/tensor/native.js';
import { sum } from '../../src/tensor/ops.js';
import { SGD } from '../../src/optim/sgd.js';
import { onEveryIsa } from '../helpers/every-isa.js';
import { assertClose } from '../helpers/assert.js';

const EXACT = { atol: 0, rtol: 0 };

function images(n: number, shape: number[], phase = 0): Tensor {
  const size = n * shape.reduce((a, b) => a * b, 1), data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = Math.sin(0.37 * ((i * i) % 10007) + phase) * 2;
  return new Tensor(data, [n, ...shape]);
}

/** Calls of smallNetForward that ran, and of the per-layer bindings it replaces, while fn runs. */
function calls(fn: () => void): { net: number; layers: number } {
  const counts = { net: 0, layers: 0 };
  const { smallNetForward, conv2dForward, conv2dMaxPoolForward, linearChainForward } = native;
  native.smallNetForward = (...args) => {
    const ran = smallNetForward(...args);
    if (ran) counts.net++;
    return ran;
  };
  native.conv2dForward = (...args) => (counts.layers++, conv2dForward(...args));
  native.conv2dMaxPoolForward = (...args) => (counts.layers++, conv2dMaxPoolForward(...args));
  native.linearChainForward = (...args) => (counts.layers++, linearChainForward(...args));
  try {
    fn();
  } finally {
    Object.assign(native, { smallNetForward, conv2dForward, conv2dMaxPoolForward, linearChainForward });
  }
  return counts;
}

/** Padded convolutions, ReLU6, an unpooled last convolution, 17 channels and Dropout (identity in eval). */
function oddNet(): Sequential {
  const net = new Sequential(
    new Conv2d({ inChannels: 3, outChannels: 8, kernelSize: 3, padding: 1 }), new ReLU6(), new MaxPool2d({ kernelSize: 2 }),
    new Conv2d({ inChannels: 8, outChannels: 17, kernelSize: 3, padding: 1 }), new Flatten(), new Dropout(0.5),
    new Linear({ inFeatures: 17 * 8 * 9, outFeatures: 33 }), new ReLU(), new Linear({ inFeatures: 33, outFeatures: 7 }));
  for (const p of net.parameters()) p.data.forEach((v, i) => { p.data[i] = v * 4; });  // some products past ReLU6's 6
  return net.eval();
}

/** The model's layers one by one: the forward pass with a gradient to record (nothing fuses across layers there). */
function layerByLayer(model: Module, x: Tensor): Tensor {
  return model.call(x).detach();
}

describe('a small network in one call', () => {
  it('lenet5 and a padded ReLU6 net: the layers\' values bit for bit on every ISA, batch 1-100 and 1-3 threads', () => {
    const nets = [{ name: 'lenet5', model: new LeNet5().eval(), shape: [1, 28, 28] }, { name: 'odd', model: oddNet(), shape: [3, 16, 18] }];
    onEveryIsa((isa) => {
      for (const { name, model, shape } of nets) {
        for (const n of [1, 2, 5, 64, 100]) {
          const x = images(n, shape);
          for (const t of [1, 2, 3]) {
            setThreads(t);
            const want = layerByLayer(model, x);
            let got = x;
            const c = calls(() => { got = noGrad(() => model.call(x)); });
            assert.deepEqual(c, { net: 1, layers: 0 }, `${name} on ${isa}, batch ${n}, ${t} threads: one call`);
            assertClose(got, want, EXACT, `${name} on ${isa}, batch ${n}, ${t} threads`);
          }
        }
      }
    });
  });

  it('runs the layers one by one under a hook (layer or container), a recorded gradient, Dropout in training and a pinned algorithm', () => {
    const model = new LeNet5().eval(), x = images(4, [1, 28, 28]);
    const want = layerByLayer(model, x);
    const check = (label: string, expectNet: number) => {
      let got = x;
      const c = calls(() => { got = noGrad(() => model.call(x)); });
      assert.equal(c.net, expectNet, label);
      if (expectNet === 0) assert.ok(c.layers > 0, `${label}: the layers ran`);
      assertClose(got, want, EXACT, label);
    };
    check('plain', 1);
    for (const m of [model.features.at(1), model.features, model.classifier, model.classifier.at(2)]) {
      let seen = 0;
      const handle = m.registerForwardHook(() => { seen++; });
      check('hooked', 0);
      handle.remove();
      assert.equal(seen, 1, 'the hook ran');
    }
    // A hook on the model itself sees only its output: the network still runs as one call.
    const handle = model.registerForwardHook(() => undefined);
    check('a hook on the model', 1);
    handle.remove();
    assert.equal(calls(() => model.call(x)).net, 0, 'a recorded gradient');
    native.setConvAlgo('batched');
    try {
      assert.equal(calls(() => noGrad(() => model.call(x))).net, 0, 'pinned to batched');
    } finally {
      native.setConvAlgo('auto');
    }
    const odd = oddNet(), y = images(3, [3, 16, 18]);
    odd.train();
    assert.equal(calls(() => noGrad(() => odd.call(y))).net, 0, 'Dropout in training');
    odd.eval();
    assert.equal(calls(() => noGrad(() => odd.call(y))).net, 1, 'Dropout in eval');
    // Not the form: no Linear after the convolutions (LeNet's features alone).
    assert.equal(calls(() => noGrad(() => model.features.call(x))).net, 0, 'features alone');
    // A grouped convolution keeps the layers.
    const grouped = new Sequential(new Conv2d({ inChannels: 2, outChannels: 4, kernelSize: 3, groups: 2 }), new ReLU(), new Flatten(),
      new Linear({ inFeatures: 4 * 10 * 10, outFeatures: 3 })).eval();
    const z = images(2, [2, 12, 12]);
    let got = z;
    assert.equal(calls(() => { got = noGrad(() => grouped.call(z)); }).net, 0, 'grouped');
    assertClose(got, layerByLayer(grouped, z), EXACT, 'grouped, layer by layer');
  });

  it('uses changed weights at once: an optimizer step, a replaced weight, loadStateDict, an in-place initializer', () => {
    const model = new LeNet5().eval(), x = images(6, [1, 28, 28]);
    const check = (label: string) => assertClose(noGrad(() => model.call(x)), layerByLayer(model, x), EXACT, label);
    check('first call');
    sum(model.call(x)).backward();
    new SGD(model.parameters(), { lr: 0.5 }).step();
    check('after an optimizer step');
    const fc = model.classifier.at(0) as Linear, conv = model.features.at(0) as Conv2d;
    fc.weight = new Parameter(images(120, [256], 1).reshape([120, 256]));
    conv.weight = new Parameter(images(6, [1, 5, 5], 2));
    check('after new weight tensors');
    model.loadStateDict(new Map([...model.stateDict()].map(([k, v]) => [k, new Tensor(v.data.map((e) => -e), v.shape)])));
    check('after loadStateDict');
    uniform_(fc.weight, -0.3, 0.3);
    uniform_(conv.weight, -0.3, 0.3);
    check('after an in-place initializer (nn.init)');
    // The parameters are planned once per model: a replaced layer or an added hook is seen at once.
    model.features[3] = new Conv2d({ inChannels: 6, outChannels: 16, kernelSize: 5, padding: 0 });
    check('after a replaced layer');
    model.classifier[1] = new ReLU6();
    check('after a replaced activation');
    let seen = 0;
    const handle = model.features.at(4).registerForwardHook(() => { seen++; });
    assert.equal(calls(() => noGrad(() => model.call(x))).net, 0, 'a hook added after the plan');
    handle.remove();
    assert.equal(seen, 1);
    assert.equal(calls(() => noGrad(() => model.call(x))).net, 1, 'the hook removed');
  });

  it('a network that does not fit leaves its Linear layers\' packing to the layers: changed weights are used', () => {
    // The trailing Flatten is no part of the form: the layers run one by one, the Linear ones as a chain.
    const net = new Sequential(new Conv2d({ inChannels: 1, outChannels: 4, kernelSize: 3 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }),
      new Flatten(), new Linear({ inFeatures: 4 * 5 * 5, outFeatures: 9 }), new ReLU(), new Linear({ inFeatures: 9, outFeatures: 5 }), new Flatten()).eval();
    const x = images(3, [1, 12, 12]);
    for (let round = 0; round < 3; round++) {
      assert.equal(calls(() => noGrad(() => net.call(x))).net, 0);
      assertClose(noGrad(() => net.call(x)), layerByLayer(net, x), EXACT, `round ${round}`);
      for (const p of net.parameters()) uniform_(p, -1, 1);
    }
  });

  it('the binding refuses convolutions it cannot read and does nothing where the shapes do not follow on', () => {
    const f = (n: number) => new Float32Array(n);
    const conv = { n: 2, cIn: 1, h: 12, w: 12, cOut: 4, kh: 3, kw: 3, strideH: 1, strideW: 1, padT: 0, padB: 0, padL: 0, padR: 0, dilH: 1, dilW: 1,
      groups: 1, weight: f(36), bias: null, clamp: [0, Infinity] as [number, number], pooled: true };
    const layer = (inFeatures: number, outFeatures: number) => ({ inFeatures, outFeatures, weight: f(inFeatures * outFeatures), bias: null,
      clamp: [-Infinity, Infinity] as [number, number], packed: f(native.linearChainPackedLength(outFeatures, inFeatures)), fresh: true });
    const y = f(6).fill(7);
    assert.equal(native.smallNetForward({ convs: [conv], layers: [layer(100, 3)] }, f(288), y, 1), true);
    assert.equal(native.smallNetForward({ convs: [conv], layers: [layer(99, 3)] }, f(288), y.fill(7), 1), false, 'a chain of other width');
    assert.ok(y.every((v) => v === 7), 'y untouched');
    assert.throws(() => native.smallNetForward({ convs: [{ ...conv, weight: f(35) }], layers: [layer(100, 3)] }, f(288), y, 1),
      /params\.convs\[0\]\.weight/);
    assert.throws(() => native.smallNetForward({ convs: [{ ...conv, groups: 3 }], layers: [layer(100, 3)] }, f(288), y, 1), /groups \(3\) must divide/);
    assert.throws(() => native.smallNetForward({ convs: [], layers: [layer(100, 3)] }, f(288), y, 1), /1 to 16 convolutions/);
    assert.throws(() => native.smallNetForward({ convs: [conv], layers: [layer(100, 3)] }, f(287), y, 1), /x/);
  });

  it('the binding reads a parameter object\'s fields once; weights changed in place (Linear ones with fresh) are used at once', () => {
    const g = (n: number, phase: number) => images(1, [n], phase).data;
    const conv = { n: 2, cIn: 1, h: 12, w: 12, cOut: 4, kh: 3, kw: 3, strideH: 1, strideW: 1, padT: 0, padB: 0, padL: 0, padR: 0, dilH: 1, dilW: 1,
      groups: 1, weight: g(36, 1), bias: g(4, 2), clamp: [0, Infinity] as [number, number], pooled: true };
    const layer = { inFeatures: 100, outFeatures: 3, weight: g(300, 3), bias: g(3, 4), clamp: [-Infinity, Infinity] as [number, number],
      packed: new Float32Array(native.linearChainPackedLength(3, 100)), fresh: true };
    const x = g(288, 5);
    const run = (p: Parameters<typeof native.smallNetForward>[0]) => {
      const y = new Float32Array(6);
      assert.equal(native.smallNetForward(p, x, y, 2), true);
      return y;
    };
    /** A new object of the same fields: read afresh. */
    const anew = () => run({ convs: [{ ...conv }], layers: [{ ...layer, packed: new Float32Array(layer.packed.length), fresh: true }] });
    const kept = { convs: [conv], layers: [layer] };
    assert.deepEqual(run(kept), anew());
    layer.fresh = false;
    conv.weight.forEach((v, i) => { conv.weight[i] = -v; });
    assert.deepEqual(run(kept), anew(), 'a convolution weight changed in place');
    layer.weight.forEach((v, i) => { layer.weight[i] = 0.5 * v; });
    layer.fresh = true;
    assert.deepEqual(run(kept), anew(), 'a Linear weight changed in place, packed again');
    kept.layers = [];
    assert.throws(() => run(kept), /params\.layers changed after the first call/);
  });
});
