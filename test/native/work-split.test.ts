// The memory-bound kernels hand out their work in dynamic chunks (native/cpu/work_split.h): any
// thread may compute any chunk, so results must not depend on the thread count or on which
// thread ran what. Each kernel on sizes spanning many chunks, at 1, 2 and 5 threads, bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native } from '../../src/tensor/native.js';
import { Generator } from '../../src/tensor/random.js';

const g = new Generator(13);
const randn = (n: number) => Float32Array.from({ length: n }, () => g.normal());
const THREADS = [1, 2, 5];

/** run(threads) → its outputs; every thread count must give the 1-thread bits. */
function sameAtEveryThreadCount(what: string, run: (threads: number) => Float32Array[]): void {
  const reference = run(1);
  for (const threads of THREADS.slice(1)) {
    const got = run(threads);
    got.forEach((out, i) => assert.deepEqual(out, reference[i], `${what}: output ${i} at ${threads} threads`));
  }
}

test('activations, binary ops and channel copies give the same bits at any thread count', () => {
  const n = 200_003, x = randn(n), dy = randn(n);
  sameAtEveryThreadCount('relu', (t) => {
    const y = new Float32Array(n), dx = new Float32Array(n);
    native.reluForward(x, y, t);
    native.reluBackward(x, dy, dx, t);
    return [y, dx];
  });
  const shape = [7, 64, 449], a = randn(7 * 64 * 449), b = randn(64 * 449);
  sameAtEveryThreadCount('add with broadcast', (t) => {
    const out = new Float32Array(a.length);
    native.binary({ op: 0, aShape: shape, bShape: [64, 449], outShape: shape }, a, b, out, t);
    return [out];
  });
  sameAtEveryThreadCount('softmax', (t) => {
    const y = new Float32Array(n - 3);
    native.softmaxForward({ shape: [1000, 200], dim: 1, log: true }, x.subarray(0, n - 3), y, t);
    return [y];
  });
});

test('batch norm forward and backward give the same bits at any thread count', () => {
  for (const shape of [[32, 64, 12, 12], [128, 512, 1, 1], [3, 5, 101, 7]]) {
    const n = shape.reduce((a, b) => a * b, 1), c = shape[1];
    const x = randn(n), dy = randn(n), weight = randn(c), bias = randn(c);
    sameAtEveryThreadCount(`batchNorm ${shape.join('x')}`, (t) => {
      const y = new Float32Array(n), saveMean = new Float32Array(c), saveInvstd = new Float32Array(c);
      const runningMean = new Float32Array(c), runningVar = new Float32Array(c).fill(1);
      native.batchNormForward({ x, shape, weight, bias, runningMean, runningVar, training: true, momentum: 0.1, eps: 1e-5, y, saveMean, saveInvstd }, t);
      const dx = new Float32Array(n), dweight = new Float32Array(c), dbias = new Float32Array(c);
      native.batchNormBackward({ x, dy, shape, weight, saveMean, saveInvstd, training: true, dx, dweight, dbias }, t);
      return [y, saveMean, saveInvstd, runningMean, runningVar, dx, dweight, dbias];
    });
  }
});

test('SGD and Adam steps give the same bits at any thread count', () => {
  const n = 300_001, param = randn(n), grad = randn(n), m = randn(n), v = randn(n).map(Math.abs);
  sameAtEveryThreadCount('adam', (t) => {
    const p = param.slice(), expAvg = m.slice(), expAvgSq = v.slice();
    native.adamStep(p, grad, { expAvg, expAvgSq, maxExpAvgSq: null }, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-4, step: 3, amsgrad: false, decoupled: true, maximize: false }, t);
    return [p, expAvg, expAvgSq];
  });
  sameAtEveryThreadCount('sgd', (t) => {
    const p = param.slice(), buffer = m.slice();
    native.sgdStep(p, grad, buffer, { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 5e-4, nesterov: true, maximize: false, newBuffer: false }, t);
    return [p, buffer];
  });
});

test('layer norm (row and channel forms) and group norm forward give the same bits at any thread count', () => {
  const forms = [{ outer: 3000, d: 96, inner: 1 }, { outer: 16, d: 64, inner: 196 }];
  for (const { outer, d, inner } of forms) {
    const n = outer * d * inner, x = randn(n), weight = randn(d), bias = randn(d);
    sameAtEveryThreadCount(`layerNorm ${outer}x${d}x${inner}`, (t) => {
      const y = new Float32Array(n), mean = new Float32Array(outer * inner), rstd = new Float32Array(outer * inner);
      native.layerNormForward({ outer, d, inner, x, weight, bias, eps: 1e-5, y, mean, rstd }, t);
      return [y, mean, rstd];
    });
  }
  const [batch, c, s, groups] = [16, 64, 196, 8], n = batch * c * s, x = randn(n), weight = randn(c), bias = randn(c);
  sameAtEveryThreadCount('groupNorm', (t) => {
    const y = new Float32Array(n), mean = new Float32Array(batch * groups), rstd = new Float32Array(batch * groups);
    native.groupNormForward({ n: batch, c, s, groups, x, weight, bias, eps: 1e-5, y, mean, rstd }, t);
    return [y, mean, rstd];
  });
});
