// Finite-difference checks for every differentiable foundation op.
import { test } from 'node:test';
import { Tensor } from '../../src/tensor/tensor.js';
import * as ops from '../../src/tensor/ops.js';
import { Generator } from '../../src/tensor/random.js';
import { gradcheck } from '../helpers/gradcheck.js';

const g = new Generator(123);
const randn = (...shape: number[]) => Tensor.randn(shape, { generator: g });

test('add, sub, mul, div with broadcasting', () => {
  const pairs: [number[], number[]][] = [[[2, 3, 4], [2, 3, 4]], [[2, 3, 4], [4]], [[2, 3, 1], [1, 5]], [[3], [1]]];
  for (const [sa, sb] of pairs) {
    gradcheck(ops.add, [randn(...sa), randn(...sb)], `add ${sa}+${sb}`);
    gradcheck(ops.sub, [randn(...sa), randn(...sb)], `sub ${sa}-${sb}`);
    gradcheck(ops.mul, [randn(...sa), randn(...sb)], `mul ${sa}*${sb}`);
    const b = Tensor.rand(sb, { generator: g, low: 0.5, high: 2 });
    gradcheck(ops.div, [randn(...sa), b], `div ${sa}/${sb}`);
  }
});

test('relu away from its kink, mulScalar, sum, mean, reshape', () => {
  const x = randn(3, 7);
  gradcheck(ops.relu, [x], 'relu', { skip: (_, i) => Math.abs(x.data[i]) < 0.02 });
  gradcheck((t) => ops.mulScalar(t, -2.5), [randn(4, 5)], 'mulScalar');
  gradcheck(ops.sum, [randn(2, 3, 4)], 'sum');
  gradcheck(ops.mean, [randn(2, 3, 4)], 'mean');
  const weights = randn(6, 4);
  gradcheck((t) => ops.mul(ops.reshape(t, [6, -1]), weights), [randn(2, 3, 4)], 'reshape');
});

test('matmul and linear', () => {
  gradcheck(ops.matmul, [randn(5, 7), randn(7, 3)], 'matmul');
  gradcheck(ops.matmul, [randn(1, 9), randn(9, 1)], 'matmul 1x1');
  gradcheck((x, w, b) => ops.linear(x, w, b), [randn(4, 6), randn(5, 6), randn(5)], 'linear');
  gradcheck((x, w) => ops.linear(x, w, null), [randn(3, 2), randn(4, 2)], 'linear without bias');
});

test('conv2d: stride, asymmetric padding, dilation, groups, depthwise, 1x1', () => {
  const configs: { x: number[]; w: number[]; o: ops.Conv2dOptions }[] = [
    { x: [2, 3, 6, 5], w: [4, 3, 3, 3], o: { padding: [1, 1, 1, 1] } },
    { x: [1, 2, 7, 7], w: [3, 2, 3, 2], o: { stride: [2, 1], padding: [1, 0, 0, 1] } },
    { x: [2, 4, 8, 6], w: [6, 2, 3, 3], o: { dilation: [2, 1], groups: 2, padding: [2, 2, 1, 1] } },
    { x: [3, 5, 5, 5], w: [5, 1, 3, 3], o: { groups: 5, stride: [2, 2], padding: [1, 1, 1, 1] } },
    { x: [2, 6, 4, 4], w: [3, 6, 1, 1], o: {} },
  ];
  for (const [i, c] of configs.entries()) {
    gradcheck((x, w, b) => ops.conv2d(x, w, b, c.o), [randn(...c.x), randn(...c.w), randn(c.w[0])], `conv2d config ${i}`);
  }
});
