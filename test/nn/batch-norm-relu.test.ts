// BatchNorm → ReLU/ReLU6, and BatchNorm → add a residual (→ ReLU/ReLU6), fused into one native
// pass (forward) and one (backward) against the unfused layers: outputs, running statistics and
// every gradient (the residual's too) bit for bit, for the op, for the layers in a Sequential and
// for whole models in training (a hook on the activations, or setResidualFusion(false), forces the
// unfused path).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { batchNorm } from '../../src/tensor/norm.js';
import { relu, hardtanh, add } from '../../src/tensor/ops.js';
import { native } from '../../src/tensor/native.js';
import { Generator, manualSeed } from '../../src/tensor/random.js';
import { BatchNorm1d, BatchNorm2d, Sequential, ReLU, ReLU6, Conv2d } from '../../src/nn/index.js';
import type { NormActivation } from '../../src/tensor/native.js';
import { buildModel } from '../../src/models/registry.js';
import { crossEntropy } from '../../src/tensor/loss.js';
import type { Module } from '../../src/nn/module.js';
import { setResidualFusion } from '../../src/nn/fusion.js';

const g = new Generator(5);
const randn = (shape: number[], requiresGrad = false) => Tensor.randn(shape, { generator: g, requiresGrad });
const copy = (t: Tensor) => new Tensor(t.data.slice(), t.shape, t.requiresGrad);

function sameBits(got: Tensor | Float32Array | null, want: Tensor | Float32Array | null, what: string): void {
  const a = got instanceof Tensor ? got.data : got, b = want instanceof Tensor ? want.data : want;
  assert.ok(a && b, `${what}: missing`);
  assert.deepEqual(a, b, what);
}

/** Counts batchNormForward calls that took the fused path (an activation, or with residual: a residual) while fn runs. */
function fusedCalls(fn: () => void, residual = false): number {
  const original = native.batchNormForward;
  let fused = 0;
  native.batchNormForward = (call, threads) => {
    if (residual ? call.residual : call.activation) fused++;
    original(call, threads);
  };
  try {
    fn();
  } finally {
    native.batchNormForward = original;
  }
  return fused;
}

type Stats = { runningMean: Tensor; runningVar: Tensor };

/** The fused and unfused outputs and running stats agree bit for bit, and so do the gradients [got, want] after dy flows back through both. */
function sameForwardAndBackward(what: string, fused: Tensor, unfused: Tensor, stats: [Stats, Stats], dy: Tensor,
  grads: [Tensor | null, Tensor | null][]): void {
  sameBits(fused, unfused, `${what} output`);
  sameBits(stats[0].runningMean, stats[1].runningMean, `${what} running mean`);
  sameBits(stats[0].runningVar, stats[1].runningVar, `${what} running var`);
  fused.backward(dy);
  unfused.backward(dy);
  grads.forEach(([got, want], i) => sameBits(got && got.grad, want && want.grad, `${what} gradient ${i}`));
}

const ACTIVATIONS: [NormActivation, (t: Tensor) => Tensor][] = [['relu', relu], ['relu6', (t) => hardtanh(t, 0, 6)]];

test('batchNorm with a fused relu/relu6 equals the activation of batchNorm forward and backward, training and eval, with and without affine', () => {
  for (const [activation, unfusedActivation] of ACTIVATIONS) for (const shape of [[8, 16, 6, 6], [128, 512, 1, 1], [5, 3, 17, 9], [32, 10], [4, 6, 33]]) {
    const c = shape[1];
    for (const training of [true, false]) {
      for (const affine of [true, false]) {
        // Scaled so that ReLU6's upper clamp is hit too.
        const x = randn(shape, true), dy = randn(shape);
        const scale = activation === 'relu6' ? randn([c]).data.map((v) => 8 * Math.abs(v) + 1) : null;
        const weight = affine ? (scale ? new Tensor(scale, [c], true) : randn([c], true)) : null, bias = affine ? randn([c], true) : null;
        const stats = () => ({ runningMean: randn([c]), runningVar: Tensor.rand([c], { generator: new Generator(1), low: 0.5, high: 2 }) });
        const s1 = stats(), s2 = { runningMean: copy(s1.runningMean), runningVar: copy(s1.runningVar) };
        const [x2, w2, b2] = [copy(x), weight && copy(weight), bias && copy(bias)];
        const o = { training, momentum: 0.1, eps: 1e-5 };
        const fused = batchNorm(x, weight, bias, { ...s1, ...o, activation });
        const unfused = unfusedActivation(batchNorm(x2, w2, b2, { ...s2, ...o }));
        const what = `${activation} ${shape.join('x')} training=${training} affine=${affine}`;
        assert.equal(fused.gradFn!.name, activation === 'relu' ? 'batchNormRelu' : 'batchNormRelu6');
        if (activation === 'relu6' && affine) assert.ok(fused.data.some((v) => v === 6), `${what}: the upper clamp is never hit`);
        sameForwardAndBackward(what, fused, unfused, [s1, s2], dy, affine ? [[x, x2], [weight, w2], [bias, b2]] : [[x, x2]]);
      }
    }
  }
});

test('an infinite or NaN gradient where the activation is off reaches nothing, as in the unfused pair', () => {
  for (const [activation, unfusedActivation] of ACTIVATIONS) {
    const x = randn([4, 3, 5, 5], true), x2 = copy(x);
    const weight = new Tensor(Float32Array.of(1, 10, 10), [3]);
    const o = { runningMean: null, runningVar: null, training: true, momentum: 0.1, eps: 1e-5 };
    const fused = batchNorm(x, weight, null, { ...o, activation });
    const unfused = unfusedActivation(batchNorm(x2, weight, null, o));
    const dy = Tensor.ones(x.shape);
    fused.data.forEach((v, i) => { if (v === 0 || v === 6) dy.data[i] = i % 2 ? Infinity : NaN; });
    fused.backward(dy);
    unfused.backward(dy);
    sameBits(x.grad, x2.grad, `${activation} dx`);
    assert.ok(x.grad!.data.every(Number.isFinite), activation);
  }
});

test('a Sequential fuses BatchNorm → ReLU unless a hook observes either layer', () => {
  const make = () => new Sequential(new Conv2d({ inChannels: 3, outChannels: 8, kernelSize: 3, padding: 1 }), new BatchNorm2d({ numFeatures: 8 }), new ReLU(),
    new BatchNorm2d({ numFeatures: 8 }), new ReLU());
  const net = make();
  const x = randn([2, 3, 6, 6]);
  assert.equal(fusedCalls(() => net.call(x)), 2);
  const seen: string[] = [];
  const layers = [...net.children()];
  const handle = layers[2].registerForwardHook(() => { seen.push('relu'); });
  assert.equal(fusedCalls(() => net.call(x)), 1);
  assert.deepEqual(seen, ['relu']);
  handle.remove();
  const onBn = layers[3].registerForwardHook(() => { seen.push('bn'); });
  assert.equal(fusedCalls(() => net.call(x)), 1);
  onBn.remove();
  // BatchNorm1d → ReLU (a classifier head) and BatchNorm → ReLU6 fuse too.
  const head = new Sequential(new BatchNorm1d({ numFeatures: 6 }), new ReLU());
  assert.equal(fusedCalls(() => head.call(randn([4, 6]))), 1);
  const six = new Sequential(new BatchNorm2d({ numFeatures: 3 }), new ReLU6());
  assert.equal(fusedCalls(() => six.call(randn([2, 3, 4, 4]))), 1);
});

/** One training step's loss and every parameter gradient, and the BatchNorm running stats after it. */
function trainingStep(model: Module, x: Tensor, y: Int32Array): Float32Array[] {
  model.train();
  manualSeed(3);  // the same dropout masks for both models
  const loss = crossEntropy(model.call(x), y);
  loss.backward();
  return [loss.data, ...model.parameters().map((p) => p.grad!.data), ...[...model.stateDict().values()].map((t) => t.data)];
}

test('simplecnn, resnet18 and mobilenet_v2 training steps: the fused path gives the unfused gradients and statistics, bit for bit', () => {
  for (const [name, input] of [['simplecnn', [4, 3, 32, 32]], ['resnet18', [2, 3, 32, 32]], ['mobilenet_v2', [2, 3, 32, 32]]] as const) {
    const fusedModel = buildModel(name, { numClasses: 10, inChannels: 3 });
    const plainModel = buildModel(name, { numClasses: 10, inChannels: 3 });
    plainModel.loadStateDict(fusedModel.stateDict());
    // A hook on every ReLU/ReLU6 keeps the plain model on the unfused path.
    for (const m of plainModel.modules()) if (m instanceof ReLU || m instanceof ReLU6) m.registerForwardHook(() => {});
    const x = randn([...input]), y = Int32Array.from({ length: input[0] }, (_, i) => i % 10);
    let fused: Float32Array[] = [];
    const calls = fusedCalls(() => { fused = trainingStep(fusedModel, x, y); });
    assert.ok(calls > 0, `${name}: no fused BatchNorm → ReLU ran`);
    let plain: Float32Array[] = [];
    assert.equal(fusedCalls(() => { plain = trainingStep(plainModel, x, y); }), 0);
    assert.equal(fused.length, plain.length);
    fused.forEach((a, i) => sameBits(a, plain[i], `${name} tensor ${i}`));
  }
});

test('the binding refuses an unknown activation, and a fused backward without the forward\'s coefficients or with too few', () => {
  const f = (n: number) => new Float32Array(n);
  const call = { x: f(8), shape: [2, 2, 2], weight: null, bias: null, runningMean: null, runningVar: null, training: true, momentum: 0.1, eps: 1e-5, y: f(8), saveMean: f(2), saveInvstd: f(2) };
  assert.throws(() => native.batchNormForward({ ...call, activation: 'gelu' as NormActivation }, 1), { name: 'RangeError', message: /activation must be 'relu' or 'relu6', not 'gelu'/ });
  const back = { x: f(8), dy: f(8), shape: [2, 2, 2], weight: null, saveMean: f(2), saveInvstd: f(2).fill(1), training: true, dx: f(8), dweight: null, dbias: null };
  assert.throws(() => native.batchNormBackward({ ...back, activation: 'gelu' as NormActivation }, 1), { name: 'RangeError', message: /not 'gelu'/ });
  assert.throws(() => native.batchNormBackward({ ...back, activation: 'relu' }, 1), { name: 'TypeError', message: /needs the forward's coefficients/ });
  assert.throws(() => native.batchNormBackward({ ...back, coefficients: f(3), activation: 'relu' }, 1), { name: 'RangeError', message: /call.coefficients to hold 4/ });
});

test('batchNorm with a residual (and relu/relu6 or no activation) equals the activation of batchNorm + residual, forward and every gradient', () => {
  const variants: [NormActivation | undefined, (t: Tensor) => Tensor][] = [[undefined, (t) => t], ...ACTIVATIONS];
  for (const [activation, unfusedActivation] of variants) for (const shape of [[8, 16, 6, 6], [64, 40, 1, 1], [5, 3, 33, 33], [3, 7, 2, 3]]) {
    const c = shape[1];
    for (const training of [true, false]) {
      for (const affine of [true, false]) {
        for (const residualGrad of [true, false]) {
          const x = randn(shape, true), dy = randn(shape), r = randn(shape, residualGrad);
          r.data.forEach((v, i) => { r.data[i] = 3 * v; });  // sums on both sides of 0 and 6
          const weight = affine ? new Tensor(randn([c]).data.map((v) => 4 * Math.abs(v) + 1), [c], true) : null, bias = affine ? randn([c], true) : null;
          const stats = () => ({ runningMean: randn([c]), runningVar: Tensor.rand([c], { generator: new Generator(1), low: 0.5, high: 2 }) });
          const s1 = stats(), s2 = { runningMean: copy(s1.runningMean), runningVar: copy(s1.runningVar) };
          const [x2, w2, b2, r2] = [copy(x), weight && copy(weight), bias && copy(bias), copy(r)];
          const o = { training, momentum: 0.1, eps: 1e-5 };
          const fused = batchNorm(x, weight, bias, { ...s1, ...o, residual: r, ...(activation ? { activation } : {}) });
          const unfused = unfusedActivation(add(batchNorm(x2, w2, b2, { ...s2, ...o }), r2));
          const what = `${activation ?? 'none'} ${shape.join('x')} training=${training} affine=${affine} residual grad=${residualGrad}`;
          assert.equal(fused.gradFn!.name, `batchNormAdd${activation === 'relu' ? 'Relu' : activation === 'relu6' ? 'Relu6' : ''}`);
          const grads: [Tensor | null, Tensor | null][] = [[x, x2], ...(residualGrad ? [[r, r2]] as [Tensor, Tensor][] : [])];
          sameForwardAndBackward(what, fused, unfused, [s1, s2], dy, affine ? [...grads, [weight, w2], [bias, b2]] : grads);
          if (!residualGrad) assert.equal(r.grad, null, `${what}: a residual without requiresGrad gets no gradient`);
        }
      }
    }
  }
  assert.throws(() => batchNorm(randn([2, 3, 4, 4]), null, null, { runningMean: null, runningVar: null, training: true, momentum: 0.1, eps: 1e-5,
    residual: randn([2, 3, 4, 5]) }), { name: 'RangeError', message: /residual of shape \[2, 3, 4, 5\] does not match/ });
});

test('resnet18, resnet50 and mobilenet_v2 training steps: BatchNorm → add (→ ReLU) fused gives the unfused loss, gradients and statistics, bit for bit', () => {
  for (const [name, input] of [['resnet18', [3, 3, 32, 32]], ['resnet50', [2, 3, 32, 32]], ['mobilenet_v2', [3, 3, 32, 32]]] as const) {
    const fusedModel = buildModel(name, { numClasses: 10, inChannels: 3 });
    const plainModel = buildModel(name, { numClasses: 10, inChannels: 3 });
    plainModel.loadStateDict(fusedModel.stateDict());
    const x = randn([...input]), y = Int32Array.from({ length: input[0] }, (_, i) => i % 10);
    let fused: Float32Array[] = [];
    const calls = fusedCalls(() => { fused = trainingStep(fusedModel, x, y); }, true);
    assert.ok(calls > 0, `${name}: no fused BatchNorm → add ran`);
    let plain: Float32Array[] = [];
    setResidualFusion(false);
    try {
      assert.equal(fusedCalls(() => { plain = trainingStep(plainModel, x, y); }, true), 0);
    } finally {
      setResidualFusion(true);
    }
    assert.equal(fused.length, plain.length);
    fused.forEach((a, i) => sameBits(a, plain[i], `${name} tensor ${i}`));
  }
});

test('a hook on the block\'s activation or normalization keeps its tail unfused in training', () => {
  const model = buildModel('resnet18', { numClasses: 10, inChannels: 3 });
  model.train();
  const x = randn([2, 3, 32, 32]);
  const blocks = 8;
  assert.equal(fusedCalls(() => model.call(x), true), blocks);
  const layer1 = [...model.modules()].find((m) => m.constructor.name === 'BasicBlock') as Module & { relu: Module; bn2: Module };
  const onRelu = layer1.relu.registerForwardHook(() => {});
  assert.equal(fusedCalls(() => model.call(x), true), blocks - 1);
  onRelu.remove();
  const onBn = layer1.bn2.registerForwardHook(() => {});
  assert.equal(fusedCalls(() => model.call(x), true), blocks - 1);
  onBn.remove();
});

test('a BatchNorm whose forward is replaced on the instance (SyncBatchNorm under --sync-bn) runs it: no fused path bypasses it', () => {
  for (const name of ['resnet18', 'mobilenet_v2', 'simplecnn'] as const) {
    const model = buildModel(name, { numClasses: 10, inChannels: 3 });
    model.train();
    const norms = [...model.modules()].filter((m): m is BatchNorm2d => m instanceof BatchNorm2d);
    let calls = 0;
    for (const bn of norms) {
      const own = bn.forward.bind(bn);
      bn.forward = (x: Tensor) => { calls++; return own(x); };
    }
    const x = randn([2, 3, 32, 32]);
    assert.equal(fusedCalls(() => model.call(x)) + fusedCalls(() => model.call(x), true), 0, `${name}: a fused BatchNorm ran`);
    assert.equal(calls, 2 * norms.length, `${name}: every BatchNorm's own forward ran`);
  }
});
