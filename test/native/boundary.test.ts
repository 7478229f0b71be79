// Deliberately wrong calls into the addon: each must throw a JS TypeError/RangeError with a
// message, never crash the process (a crash would fail this whole file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, setThreads, getThreads, type ConvParams, type GemmParams } from '../../src/tensor/native.js';

const f = (n: number) => new Float32Array(n);
const conv: ConvParams = { n: 1, cIn: 2, h: 5, w: 5, cOut: 3, kh: 3, kw: 3, strideH: 1, strideW: 1,
  padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 1 };

test('gemm rejects wrong types, short buffers, bad dimensions and leading dimensions', () => {
  const p: GemmParams = { transA: false, transB: false, m: 2, n: 3, k: 4, alpha: 1, beta: 0, lda: 4, ldb: 3, ldc: 3 };
  native.gemm(p, f(8), f(12), f(6), 1);
  assert.throws(() => native.gemm(p, f(7), f(12), f(6), 1), { name: 'RangeError', message: /A to hold at least 8/ });
  assert.throws(() => native.gemm(p, f(8), f(12), f(5), 1), RangeError);
  assert.throws(() => native.gemm({ ...p, lda: 3 }, f(8), f(12), f(6), 1), /params.lda/);
  assert.throws(() => native.gemm({ ...p, m: -1 }, f(8), f(12), f(6), 1), RangeError);
  assert.throws(() => native.gemm({ ...p, m: 2.5 }, f(8), f(12), f(6), 1), TypeError);
  const g = native.gemm as unknown as (...a: unknown[]) => void;
  assert.throws(() => g(p, new Float64Array(8), f(12), f(6), 1), { name: 'TypeError', message: /Float32Array for A/ });
  assert.throws(() => g(p, [1, 2], f(12), f(6), 1), TypeError);
  assert.throws(() => g({ ...p, transA: 'no' }, f(8), f(12), f(6), 1), /boolean for params.transA/);
  assert.throws(() => g(), /expected 5 arguments/);
  assert.throws(() => native.gemm(p, f(8), f(12), f(6), 0), /threads/);
  assert.throws(() => native.gemm({ ...p, m: 2 ** 40 }, f(8), f(12), f(6), 1), RangeError);
});

test('convolution rejects bad parameters and buffers of the wrong length', () => {
  const x = f(50), w = f(54), b = f(3), y = f(75);
  native.conv2dForward(conv, x, w, b, y, 1);
  assert.throws(() => native.conv2dForward(conv, f(49), w, b, y, 1), { name: 'RangeError', message: /x to hold 50/ });
  assert.throws(() => native.conv2dForward(conv, x, f(53), b, y, 1), /w to hold 54/);
  assert.throws(() => native.conv2dForward(conv, x, w, f(2), y, 1), /b to hold 3/);
  assert.throws(() => native.conv2dForward(conv, x, w, b, f(76), 1), /y to hold 75/);
  assert.throws(() => native.conv2dForward({ ...conv, groups: 2, cOut: 3 }, x, f(27), b, y, 1), /groups/);
  assert.throws(() => native.conv2dForward({ ...conv, kh: 9 }, x, w, b, y, 1), /larger than the padded input/);
  assert.throws(() => native.conv2dForward({ ...conv, strideH: 0 }, x, w, b, y, 1), /strideH/);
  assert.throws(() => native.conv2dForward({ ...conv, padT: -1 }, x, w, b, y, 1), /padT/);
  const c = native.conv2dForward as unknown as (...a: unknown[]) => void;
  assert.throws(() => c({ ...conv, n: undefined }, x, w, b, y, 1), TypeError);
  assert.throws(() => c(null, x, w, b, y, 1), TypeError);
  assert.throws(() => c(conv, x, w, 'bias', y, 1), TypeError);
  assert.throws(() => native.conv2dBackwardInput(conv, f(74), w, x, 1), RangeError);
  assert.throws(() => native.conv2dBackwardWeight(conv, x, y, f(1), null, 1), RangeError);
  assert.throws(() => native.conv2dForward({ ...conv, n: 100000, cIn: 100000, h: 100000, w: 100000 }, x, w, b, y, 1), RangeError);
});

test('elementwise bindings check lengths and broadcastability', () => {
  assert.throws(() => native.binary({ op: 0, aShape: [2, 3], bShape: [4], outShape: [2, 3] }, f(6), f(4), f(6), 1), /cannot broadcast/);
  assert.throws(() => native.binary({ op: 7, aShape: [1], bShape: [1], outShape: [1] }, f(1), f(1), f(1), 1), /op/);
  assert.throws(() => native.binary({ op: 0, aShape: [2, 3], bShape: [3], outShape: [2, 3] }, f(5), f(3), f(6), 1), /a to hold 6/);
  assert.throws(() => native.binary({ op: 0, aShape: [2, -3], bShape: [3], outShape: [2, 3] }, f(6), f(3), f(6), 1), /non-negative/);
  assert.throws(() => native.sumToShape(f(6), [2, 3], f(3), [2, 1]), /out to hold 2/);
  assert.throws(() => native.sumToShape(f(6), [2, 3], f(2), [2, 2]), /target extents/);
  assert.throws(() => native.reluForward(f(3), f(2), 1), /y to hold 3/);
  assert.throws(() => native.reluBackward(f(3), f(3), f(4), 1), RangeError);
  assert.throws(() => native.axpy(1, f(3), f(2), 1), RangeError);
  assert.throws(() => native.setIsa('sse9'), { name: 'RangeError', message: /unknown kernel variant/ });
});

test('the thread count is validated and applied', () => {
  const before = getThreads();
  assert.throws(() => setThreads(0), /between 1 and 1024/);
  assert.throws(() => setThreads(1.5), RangeError);
  setThreads(3);
  assert.equal(getThreads(), 3);
  setThreads(before);
});
