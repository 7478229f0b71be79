// BatchNorm → ReLU/ReLU6 fused into one native pass (forward) and one (backward) against the
// unfused pair: outputs, running statistics and every gradient bit for bit, for the op, for the
// layers in a Sequential and for whole models in training (a hook on the activations forces the
// unfused path).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { batchNorm } from '../../src/tensor/norm.js';
import { relu, hardtanh } from '../../src/tensor/ops.js';
import { native } from '../../src/tensor/native.js';
import { Generator, manualSeed } from '../../src/tensor/random.js';
import { BatchNorm1d, BatchNorm2d, Sequential, ReLU, ReLU6, Conv2d } from '../../src/nn/index.js';
import type { NormActivation } from '../../src/tensor/native.js';
import { buildModel } from '../../src/models/registry.js';
import { crossEntropy } from '../../src/tensor/loss.js';
import type { Module } from '../../src/nn/module.js';

const g = new Generator(5);
const randn = (shape: number[], requiresGrad = false) => Tensor.randn(shape, { generator: g, requiresGrad });
const copy = (t: Tensor) => new Tensor(t.data.slice(), t.shape, t.requiresGrad);

function sameBits(got: Tensor | Float32Array | null, want: Tensor | Float32Array | null, what: string): void {
  const a = got instanceof Tensor ? got.data : got, b = want instanceof Tensor ? want.data : want;
  assert.ok(a && b, `${what}: missing`);
  assert.deepEqual(a, b, what);
}

/** Counts batchNormForward calls that took the fused path while fn runs. */
function fusedCalls(fn: () => void): number {
  const original = native.batchNormForward;
  let fused = 0;
  native.batchNormForward = (call, threads) => {
    if (call.activation) fused++;
    original(call, threads);
  };
  try {
    fn();
  } finally {
    native.batchNormForward = original;
  }
  return fused;
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
        sameBits(fused, unfused, `${what} output`);
        sameBits(s1.runningMean, s2.runningMean, `${what} running mean`);
        sameBits(s1.runningVar, s2.runningVar, `${what} running var`);
        fused.backward(dy);
        unfused.backward(dy);
        sameBits(x.grad, x2.grad, `${what} dx`);
        if (affine) {
          sameBits(weight!.grad, w2!.grad, `${what} dweight`);
          sameBits(bias!.grad, b2!.grad, `${what} dbias`);
        }
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

test('the binding refuses an unknown activation, and an activation without its output in backward', () => {
  const f = (n: number) => new Float32Array(n);
  const call = { x: f(8), shape: [2, 2, 2], weight: null, bias: null, runningMean: null, runningVar: null, training: true, momentum: 0.1, eps: 1e-5, y: f(8), saveMean: f(2), saveInvstd: f(2) };
  assert.throws(() => native.batchNormForward({ ...call, activation: 'gelu' as NormActivation }, 1), { name: 'RangeError', message: /activation must be 'relu' or 'relu6', not 'gelu'/ });
  const back = { x: f(8), dy: f(8), shape: [2, 2, 2], weight: null, saveMean: f(2), saveInvstd: f(2).fill(1), training: true, dx: f(8), dweight: null, dbias: null };
  assert.throws(() => native.batchNormBackward({ ...back, activation: 'relu' }, 1), { name: 'TypeError', message: /both be given/ });
  assert.throws(() => native.batchNormBackward({ ...back, activationOutput: f(8) }, 1), { name: 'TypeError', message: /both be given/ });
  assert.throws(() => native.batchNormBackward({ ...back, activation: 'relu', activationOutput: f(7) }, 1), RangeError);
});
