// Training through Winograd F(4×4, 3×3): Auto takes it for the forward and input-gradient passes
// of 3×3 stride-1 layers where bench/winograd-crossover.mjs's training set measured it faster
// with the weights transformed in every call; setWinogradTraining(false) (CNN_WINOGRAD_TRAINING=0)
// keeps those layers on the exact paths; and simplecnn trains through it as through the exact
// paths (the kernel tests bound each layer at 192 float epsilons of Σ|w|·|x|).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { native, type ConvPass } from '../../src/tensor/native.js';
import { crossEntropy } from '../../src/tensor/loss.js';
import { SGD } from '../../src/optim/sgd.js';
import { Dropout } from '../../src/nn/dropout.js';
import { sineImages, deterministicModel } from '../helpers/zoo-inputs.js';
import { assertClose } from '../helpers/assert.js';
import { withWinogradTraining } from '../helpers/winograd-training.js';

const conv = (n: number, c: number, hw: number) => ({ n, cIn: c, h: hw, w: hw, cOut: c, kh: 3, kw: 3, strideH: 1, strideW: 1,
  padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 1 });
const PASSES: ConvPass[] = ['forward', 'backwardInput', 'backwardWeight'];

it('Auto takes Winograd for the forward and input-gradient passes where it wins, and not when turned off', () => {
  const simplecnnLayer = conv(16, 32, 32);
  assert.deepEqual(PASSES.map((pass) => native.convAlgo(simplecnnLayer, pass, 2) === 'winograd'), [true, true, false]);
  withWinogradTraining(false, () => assert.ok(PASSES.every((pass) => native.convAlgo(simplecnnLayer, pass, 2) !== 'winograd')));
  // Measured losing with per-call weights: 16 channels, 4×4 maps, 7×7 maps.
  for (const p of [conv(128, 16, 32), conv(128, 128, 4), conv(64, 64, 7)])
    assert.ok(PASSES.every((pass) => native.convAlgo(p, pass, 2) !== 'winograd'), `${p.cIn} channels on ${p.h}x${p.w}`);
});

it('one layer: forward and input gradient within 1e-4 of the exact paths', () => {
  const p = conv(4, 32, 16);
  const wave = (n: number, f: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * f) * 0.5);
  const x = wave(4 * 32 * 256, 0.37), w = wave(32 * 32 * 9, 1.3).map((v) => v / Math.sqrt(9 * 32)), b = wave(32, 2.1), dy = wave(x.length, 0.71);
  const run = () => {
    const y = new Float32Array(x.length), dx = new Float32Array(x.length);
    native.conv2dForward(p, x, w, b, y, 2);
    native.conv2dBackwardInput(p, dy, w, dx, 2);
    return { y, dx };
  };
  const got = run(), want = withWinogradTraining(false, run);
  assert.notDeepEqual(got.y, want.y, 'the two runs took different paths');
  assertClose(got.y, want.y, { atol: 1e-4, rtol: 1e-4 }, 'forward');
  assertClose(got.dx, want.dx, { atol: 1e-4, rtol: 1e-4 }, 'input gradient');
});

it('simplecnn: three SGD steps through Winograd follow the exact paths\' losses and weights', () => {
  const x = sineImages(16), target = Array.from({ length: 16 }, (_, i) => (i * 3) % 10);
  const train = () => {
    const model = deterministicModel('simplecnn').train();
    for (const m of model.modules()) if (m instanceof Dropout) m.training = false;  // the same step both ways
    const optimizer = new SGD(model.parameters(), { lr: 0.02, momentum: 0.9 });
    const losses: number[] = [];
    for (let step = 0; step < 3; step++) {
      optimizer.zeroGrad();
      const loss = crossEntropy(model.call(x), target);
      losses.push(loss.data[0]);
      loss.backward();
      optimizer.step();
    }
    return { losses, weights: model.parameters().map((p) => Float32Array.from(p.data)) };
  };
  const got = train(), want = withWinogradTraining(false, train);
  assert.notDeepEqual(got.weights, want.weights, 'the two runs took different paths');
  // Element by element the runs part where a ReLU or a max pool decides a near tie one way in one
  // rounding and the other way in the other, and three momentum steps carry that into whole
  // tensors: over 13 inputs (sineImages' phase 0, 0.5 and 1-11) on two builds, up to 5e-3 of a
  // tensor's norm and 1.1e-3 of a loss. A wrong transform is off by the order of the values.
  assertClose(got.losses, want.losses, { atol: 0, rtol: 5e-3 }, 'losses');
  got.weights.forEach((w, i) => {
    const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, e) => s + e * e, 0));
    const apart = norm(w.map((v, j) => v - want.weights[i][j])), size = norm(want.weights[i]);
    assert.ok(apart <= 2e-2 * size, `parameter ${i}: ${apart} apart, ${size} in norm`);
  });
});
