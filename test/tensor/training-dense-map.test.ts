// A recording convolution on maps no larger than the kernel builds the dense map once for its
// forward and input-gradient passes (src/tensor/training-dense-map.ts): the output and every
// gradient are the bits of the native passes that build their own, at 1, 2 and 3 threads, and a
// layer whose passes do not both take the dense map builds nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, shapeSize } from '../../src/tensor/tensor.js';
import { native, getThreads, setThreads, type ConvParams } from '../../src/tensor/native.js';
import { conv2d, convOutputShape } from '../../src/tensor/ops.js';
import { Generator } from '../../src/tensor/random.js';
import { trainingDenseMap } from '../../src/tensor/training-dense-map.js';

const g = new Generator(21);
const rand = (n: number) => Float32Array.from({ length: n }, () => g.normal());
const conv3x3 = (n: number, cIn: number, cOut: number, hw: number, stride: number): ConvParams => ({ n, cIn, h: hw, w: hw, cOut,
  kh: 3, kw: 3, strideH: stride, strideW: stride, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 1 });

// resnet18's layer3 3×3 on 2×2 maps (48 images: the least the dense map takes there in training),
// layer4's stride-2 3×3 from 2×2 and its 3×3 on 1×1 maps, with fewer channels.
const LAYERS = [conv3x3(48, 24, 20, 2, 1), conv3x3(48, 16, 40, 2, 2), conv3x3(5, 40, 24, 1, 1)];

test('a training convolution on 2x2 and 1x1 maps gives the bits of the passes that build their own dense map', () => {
  const saved = getThreads();
  try {
    for (const p of LAYERS) {
      const xs = p.n * p.cIn * p.h * p.w, ws = p.cOut * p.cIn * 9, ys = shapeSize(convOutputShape(p));
      const x = rand(xs), w = rand(ws), b = rand(p.cOut), dy = rand(ys);
      for (const threads of [1, 2, 3]) {
        setThreads(threads);
        const xt = new Tensor(x.slice(), [p.n, p.cIn, p.h, p.w], true), wt = new Tensor(w.slice(), [p.cOut, p.cIn, 3, 3], true);
        const bt = new Tensor(b.slice(), [p.cOut], true);
        assert.ok(trainingDenseMap(p, wt, threads), `${p.h}x${p.w} ${p.cIn}->${p.cOut}: both passes take the dense map`);
        const y = conv2d(xt, wt, bt, { stride: [p.strideH, p.strideW], padding: [1, 1, 1, 1] });
        y.backward(new Tensor(dy, y.shape));
        const want = { y: new Float32Array(ys), dx: new Float32Array(xs), dw: new Float32Array(ws), db: new Float32Array(p.cOut) };
        native.conv2dForward(p, x, w, b, want.y, threads);
        native.conv2dBackwardInput(p, dy, w, want.dx, threads);
        native.conv2dBackwardWeight(p, x, dy, want.dw, want.db, threads);
        const label = `${p.h}x${p.w} ${p.cIn}->${p.cOut} threads=${threads}`;
        assert.deepEqual(y.data, want.y, `${label}: y`);
        assert.deepEqual(xt.grad!.data, want.dx, `${label}: dx`);
        assert.deepEqual(wt.grad!.data, want.dw, `${label}: dw`);
        assert.deepEqual(bt.grad!.data, want.db, `${label}: db`);
      }
    }
  } finally {
    setThreads(saved);
  }
});

test('layers whose forward or input gradient does not take the dense map build none', () => {
  const w = (p: ConvParams) => new Tensor(rand(p.cOut * p.cIn * 9), [p.cOut, p.cIn, 3, 3], true);
  // A 4×4 map has more pixels than the kernel's taps; 8 images on 2×2 are too few to repay building it in training.
  for (const p of [conv3x3(48, 8, 8, 4, 1), conv3x3(8, 8, 8, 2, 1)]) assert.equal(trainingDenseMap(p, w(p), 2), undefined);
});
