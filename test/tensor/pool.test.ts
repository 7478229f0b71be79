// Pooling against PyTorch 1.13 (test/fixtures/pool.safetensors), finite differences, and bad
// arguments at both the TypeScript and the native boundary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import {
  maxPool2d, maxPool2dWithIndices, avgPool2d, adaptiveAvgPool2d, adaptiveMaxPool2d,
  adaptiveMaxPool2dWithIndices,
} from '../../src/tensor/pool.js';
import { native, type MaxPoolParams, type AvgPoolParams } from '../../src/tensor/native.js';
import { Generator } from '../../src/tensor/random.js';
import { loadFixture } from '../helpers/fixtures.js';
import { assertClose, FORWARD, GRADIENT } from '../helpers/assert.js';
import { gradcheck } from '../helpers/gradcheck.js';

interface PoolCase {
  op: 'max' | 'avg' | 'adaptive_avg' | 'adaptive_max';
  kernelSize: [number, number]; stride: [number, number]; padding: [number, number];
  dilation: [number, number]; ceilMode: boolean; countIncludePad: boolean; divisorOverride?: number;
  outputSize: [number, number];
}

function runCase(p: PoolCase, x: Tensor): [Tensor, Tensor | null] {
  switch (p.op) {
    case 'max':
      return maxPool2dWithIndices(x, { kernelSize: p.kernelSize, stride: p.stride, padding: p.padding, dilation: p.dilation, ceilMode: p.ceilMode });
    case 'avg':
      return [avgPool2d(x, { kernelSize: p.kernelSize, stride: p.stride, padding: p.padding, ceilMode: p.ceilMode, countIncludePad: p.countIncludePad, divisorOverride: p.divisorOverride }), null];
    case 'adaptive_avg':
      return [adaptiveAvgPool2d(x, p.outputSize), null];
    case 'adaptive_max':
      return adaptiveMaxPool2dWithIndices(x, p.outputSize);
  }
}

test('pooling forward, indices and input gradients match PyTorch', () => {
  const cases = loadFixture<PoolCase>('pool.safetensors');
  const ops = new Set(cases.map((c) => c.params.op));
  assert.deepEqual([...ops].sort(), ['adaptive_avg', 'adaptive_max', 'avg', 'max']);
  assert.ok(cases.length >= 25);
  for (const { name, params, t } of cases) {
    const x = t.x.clone().requiresGrad_();
    const [out, indices] = runCase(params, x);
    assertClose(out, t.out, FORWARD, `${name} out`);
    if (t.indices) {
      assert.ok(indices, `${name}: indices`);
      assert.deepEqual(Array.from(indices.data), Array.from(t.indices.data), `${name} indices`);
      assert.equal(indices.requiresGrad, false);
    }
    out.backward(t.gout);
    assertClose(x.grad!, t.gx, GRADIENT, `${name} gx`);
  }
});

test('maxPool2d and adaptiveMaxPool2d return the same output as their WithIndices forms', () => {
  const x = Tensor.randn([1, 2, 7, 6], { generator: new Generator(3) });
  const o = { kernelSize: [3, 2] as [number, number], stride: [2, 2] as [number, number], padding: [1, 1] as [number, number], ceilMode: true };
  assert.deepEqual(maxPool2d(x, o).toArray(), maxPool2dWithIndices(x, o)[0].toArray());
  assert.deepEqual(adaptiveMaxPool2d(x, [3, 4]).toArray(), adaptiveMaxPool2dWithIndices(x, [3, 4])[0].toArray());
  // stride defaults to the kernel size, as PyTorch.
  assert.deepEqual(maxPool2d(x, { kernelSize: [2, 2] }).shape, [1, 2, 3, 3]);
  assert.deepEqual(avgPool2d(x, { kernelSize: [2, 3] }).shape, [1, 2, 3, 2]);
});

test('max pool ties keep the first maximum, NaN propagates, padding is -inf', () => {
  const ties = maxPool2dWithIndices(Tensor.full([1, 1, 4, 4], 2), { kernelSize: [2, 2] });
  assert.deepEqual(ties[1].toArray(), [0, 2, 8, 10]);
  const x = Tensor.from([-3, -2, Number.NaN, -4], [1, 1, 2, 2]);
  const [out, idx] = maxPool2dWithIndices(x, { kernelSize: [2, 2], stride: [1, 1], padding: [1, 1] });
  // Values and indices from PyTorch 1.13; NaN wins, and the last NaN in a window is kept.
  assert.deepEqual(out.toArray(), [-3, -2, -2, Number.NaN, Number.NaN, -2, Number.NaN, Number.NaN, -4]);
  assert.deepEqual(idx.toArray(), [0, 1, 1, 2, 2, 1, 2, 2, 3]);
  const twoNaN = maxPool2dWithIndices(Tensor.from([Number.NaN, 1, Number.NaN, -4], [1, 1, 2, 2]), { kernelSize: [2, 2] });
  assert.deepEqual(twoNaN[1].toArray(), [2]);
  const adaptiveTies = adaptiveMaxPool2dWithIndices(Tensor.full([1, 1, 3, 3], 1), [1, 1]);
  assert.deepEqual(adaptiveTies[1].toArray(), [0]);
});

// Distinct values at least 0.05 apart, so a ±1e-2 step never changes an argmax.
function distinct(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const g = new Generator(seed);
  const values = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.05);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(g.random() * (i + 1));
    [values[i], values[j]] = [values[j], values[i]];
  }
  return Tensor.from(values, shape);
}

test('pooling gradients match finite differences', () => {
  const g = new Generator(11);
  gradcheck((x) => maxPool2d(x, { kernelSize: [3, 3], stride: [2, 2], padding: [1, 1], dilation: [1, 2], ceilMode: true }),
    [distinct([2, 2, 7, 8], 1)], 'maxPool2d');
  gradcheck((x) => adaptiveMaxPool2d(x, [3, 4]), [distinct([1, 2, 7, 5], 2)], 'adaptiveMaxPool2d');
  gradcheck((x) => avgPool2d(x, { kernelSize: [3, 2], stride: [2, 1], padding: [1, 1], ceilMode: true, countIncludePad: false }),
    [Tensor.randn([2, 2, 6, 7], { generator: g })], 'avgPool2d excl');
  gradcheck((x) => avgPool2d(x, { kernelSize: [3, 3], stride: [2, 2], padding: [1, 1], ceilMode: true, divisorOverride: 5 }),
    [Tensor.randn([1, 2, 6, 6], { generator: g })], 'avgPool2d divisor');
  gradcheck((x) => adaptiveAvgPool2d(x, [4, 3]), [Tensor.randn([1, 2, 10, 9], { generator: g })], 'adaptiveAvgPool2d');
  gradcheck((x) => adaptiveAvgPool2d(x, [5, 5]), [Tensor.randn([1, 1, 3, 3], { generator: g })], 'adaptiveAvgPool2d upsample');
});

test('kernels give identical results on 1 and several threads', () => {
  const x = Tensor.randn([3, 5, 33, 31], { generator: new Generator(5) });
  const p: MaxPoolParams = { n: 3, c: 5, h: 33, w: 31, kh: 3, kw: 3, strideH: 2, strideW: 2, padH: 1, padW: 1, dilH: 1, dilW: 1, ceilMode: true };
  const outSize = 3 * 5 * 17 * 16;
  const run = (threads: number): [Float32Array, Float32Array] => {
    const y = new Float32Array(outSize), idx = new Float32Array(outSize);
    native.maxPool2dForward(p, x.data, y, idx, threads);
    return [y, idx];
  };
  const [y1, i1] = run(1), [y3, i3] = run(3);
  assert.deepEqual(Array.from(y3), Array.from(y1));
  assert.deepEqual(Array.from(i3), Array.from(i1));
  const dx1 = new Float32Array(x.size), dx3 = new Float32Array(x.size);
  native.maxPoolBackward({ planes: 15, h: 33, w: 31, outH: 17, outW: 16 }, y1, i1, dx1, 1);
  native.maxPoolBackward({ planes: 15, h: 33, w: 31, outH: 17, outW: 16 }, y1, i1, dx3, 3);
  assert.deepEqual(Array.from(dx3), Array.from(dx1));
});

test('bad pooling arguments throw clear errors', () => {
  const x = Tensor.zeros([1, 1, 4, 4]);
  assert.throws(() => maxPool2d(Tensor.zeros([1, 4, 4]), { kernelSize: [2, 2] }), /maxPool2d: expected a 4-D input/);
  assert.throws(() => avgPool2d(Tensor.zeros([4, 4]), { kernelSize: [2, 2] }), /avgPool2d: expected a 4-D input/);
  assert.throws(() => adaptiveAvgPool2d(Tensor.zeros([2, 4, 4]), [2, 2]), /expected a 4-D input/);
  assert.throws(() => maxPool2d(x, { kernelSize: [5, 5] }), /Output size is too small/);
  assert.throws(() => avgPool2d(x, { kernelSize: [2, 5] }), /Output size is too small/);
  assert.throws(() => maxPool2d(x, { kernelSize: [3, 3], dilation: [2, 2] }), /Output size is too small/);
  assert.throws(() => maxPool2d(x, { kernelSize: [3, 3], padding: [2, 0] }), /pad should be at most half of kernel size/);
  assert.throws(() => avgPool2d(x, { kernelSize: [2, 2], padding: [0, 2] }), /pad should be at most half/);
  assert.throws(() => maxPool2d(x, { kernelSize: [0, 2] }), RangeError);
  assert.throws(() => maxPool2d(x, { kernelSize: [2, 2], stride: [0, 1] }), RangeError);
  assert.throws(() => maxPool2d(x, { kernelSize: [1.5, 2] }), TypeError);
  assert.throws(() => avgPool2d(x, { kernelSize: [2, 2], divisorOverride: 0 }), /divisorOverride must be a non-zero integer/);
  assert.throws(() => adaptiveAvgPool2d(x, [0, 2]), RangeError);
  assert.throws(() => adaptiveMaxPool2d(Tensor.zeros([1, 1, 0, 3]), [2, 2]), /non-zero size/);
});

test('bad native pooling calls throw TypeError/RangeError instead of crashing', () => {
  const p: MaxPoolParams = { n: 1, c: 2, h: 4, w: 4, kh: 2, kw: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, dilH: 1, dilW: 1, ceilMode: false };
  const x = new Float32Array(32), y = new Float32Array(8), idx = new Float32Array(8);
  native.maxPool2dForward(p, x, y, idx, 1);
  assert.throws(() => native.maxPool2dForward(p, x, new Float32Array(7), idx, 1), RangeError);
  assert.throws(() => native.maxPool2dForward(p, new Float32Array(31), y, idx, 1), RangeError);
  assert.throws(() => native.maxPool2dForward({ ...p, h: 4.5 }, x, y, idx, 1), TypeError);
  assert.throws(() => native.maxPool2dForward({ ...p, padH: 2 }, x, y, idx, 1), RangeError);
  assert.throws(() => native.maxPool2dForward({ ...p, kh: 9 }, x, y, idx, 1), RangeError);
  assert.throws(() => native.maxPool2dForward(p, x, y, idx as unknown as Float32Array, 0), RangeError);
  assert.throws(() => (native.maxPool2dForward as unknown as (...a: unknown[]) => void)(p, x, y, idx), TypeError);
  assert.throws(() => native.maxPool2dForward(p, Array.from(x) as unknown as Float32Array, y, idx, 1), TypeError);
  const dx = new Float32Array(32);
  assert.throws(() => native.maxPoolBackward({ planes: 2, h: 4, w: 4, outH: 2, outW: 2 }, y, Float32Array.from([16, 0, 0, 0, 0, 0, 0, 0]), dx, 1), RangeError);
  assert.throws(() => native.maxPoolBackward({ planes: 2, h: 4, w: 4, outH: 2, outW: 2 }, y, Float32Array.from([0.5, 0, 0, 0, 0, 0, 0, 0]), dx, 1), RangeError);
  assert.throws(() => native.maxPoolBackward({ planes: 2, h: 4, w: 4, outH: 2, outW: 2 }, y, Float32Array.from([NaN, 0, 0, 0, 0, 0, 0, 0]), dx, 1), RangeError);
  assert.throws(() => native.maxPoolBackward({ planes: 2, h: 4, w: 4, outH: 2, outW: 2 }, y, idx, new Float32Array(33), 1), RangeError);
  const a: AvgPoolParams = { n: 1, c: 2, h: 4, w: 4, kh: 2, kw: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, ceilMode: false, countIncludePad: true, divisorOverride: 0 };
  native.avgPool2dForward(a, x, y, 1);
  assert.throws(() => native.avgPool2dForward({ ...a, countIncludePad: 1 as unknown as boolean }, x, y, 1), TypeError);
  assert.throws(() => native.avgPool2dBackward(a, new Float32Array(9), dx, 1), RangeError);
  assert.throws(() => native.adaptiveAvgPool2dForward({ planes: 2, h: 4, w: 4, outH: 3, outW: 3 }, x, y, 1), RangeError);
  assert.throws(() => native.adaptiveAvgPool2dForward({ planes: 1.5, h: 4, w: 4, outH: 2, outW: 2 }, x, y, 1), TypeError);
  assert.throws(() => native.adaptiveAvgPool2dBackward({ planes: 2, h: 4, w: 4, outH: 0, outW: 2 }, y, dx, 1), RangeError);
  assert.throws(() => native.adaptiveMaxPool2dForward({ planes: 2, h: 4, w: 4, outH: 2, outW: 2 }, x, y, new Float32Array(4), 1), RangeError);
});
