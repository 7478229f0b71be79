// The convolution path is an explicit choice: convAlgo says which one a call takes, and
// setConvAlgo (CNN_CONV_ALGO) pins one; every pinned path agrees with conv2d_ref on odd shapes.
// (build/Release/kernel_tests pins each path over many more shapes, in every pass.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, type ConvAlgoName, type ConvParams, type ConvPass } from '../../src/tensor/native.js';
import { convOutputShape } from '../../src/tensor/ops.js';
import { Generator } from '../../src/tensor/random.js';
import { shapeSize } from '../../src/tensor/tensor.js';
import { assertClose } from '../helpers/assert.js';
import { runCli } from '../helpers/cli.js';

const conv = (o: Partial<ConvParams>): ConvParams => ({ n: 8, cIn: 16, h: 13, w: 11, cOut: 12, kh: 3, kw: 3,
  strideH: 1, strideW: 1, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 1, ...o });
const shapes: ConvParams[] = [
  conv({ groups: 16, cOut: 16 }),                                   // depthwise
  conv({ n: 3, cIn: 6, h: 17, w: 37, cOut: 6, groups: 6, kh: 5, kw: 5, strideH: 2, strideW: 2, padT: 2, padB: 1, padL: 2, padR: 2 }), // depthwise 5×5, stride 2
  conv({ n: 8, cIn: 32, h: 24, w: 30, cOut: 8 }),                   // stride 1, large enough for the grid
  conv({ n: 4, cIn: 3, h: 14, w: 15, cOut: 6, kh: 5, kw: 5, padT: 2, padB: 1, padL: 2, padR: 2 }), // few output channels: direct
  conv({ n: 9, cIn: 12, h: 41, w: 37, cOut: 10, kh: 5, strideH: 2, padT: 2, dilW: 2, groups: 2 }),
  conv({ n: 3, cIn: 5, h: 6, w: 7, cOut: 9, strideW: 2, padR: 0 }),  // small: batched
  conv({ n: 6, cIn: 24, h: 2, w: 2, cOut: 10 }),                    // a map no larger than the kernel: dense map where pinned
  conv({ n: 7, cIn: 20, h: 5, w: 4, cOut: 40 }),                    // rows of 4: output channels in the lanes (forward)
];
const passes: ConvPass[] = ['forward', 'backwardInput', 'backwardWeight'];
const g = new Generator(7);
const rand = (n: number) => Float32Array.from({ length: n }, () => g.nextUint32() / 2 ** 31 - 1);

function checkAgainstReference(p: ConvParams, threads: number): void {
  const xs = p.n * p.cIn * p.h * p.w, ws = p.cOut * (p.cIn / p.groups) * p.kh * p.kw, ys = shapeSize(convOutputShape(p));
  const x = rand(xs), w = rand(ws), b = rand(p.cOut), dy = rand(ys);
  const out = () => [new Float32Array(ys), new Float32Array(xs), new Float32Array(ws), new Float32Array(p.cOut)];
  const [y, dx, dw, db] = out(), [yr, dxr, dwr, dbr] = out();
  native.conv2dForward(p, x, w, b, y, threads);
  native.conv2dRefForward(p, x, w, b, yr);
  native.conv2dBackwardInput(p, dy, w, dx, threads);
  native.conv2dRefBackwardInput(p, dy, w, dxr);
  native.conv2dBackwardWeight(p, x, dy, dw, db, threads);
  native.conv2dRefBackwardWeight(p, x, dy, dwr, dbr);
  // The epilogue (a residual, then eval fusion's ReLU6) equals the reference's output plus the residual, clamped.
  const yc = new Float32Array(ys), residual = rand(ys);
  native.conv2dForward({ ...p, clamp: [0, 0.5], residual }, x, w, b, yc, threads);
  const yrc = yr.map((v, i) => Math.min(Math.max(v + residual[i], 0), 0.5));
  for (const [label, got, want] of [['y', y, yr], ['y clamped', yc, yrc], ['dx', dx, dxr], ['dw', dw, dwr], ['db', db, dbr]] as const) {
    assertClose(got, want, { atol: 1e-3, rtol: 1e-4 }, label);
  }
}

test('by shape, convAlgo names the path each pass takes', () => {
  assert.deepEqual(passes.map((pass) => native.convAlgo(shapes[0], pass, 2)), ['depthwise', 'depthwise', 'depthwise']);
  assert.deepEqual(passes.map((pass) => native.convAlgo(shapes[3], pass, 2)), ['direct', 'direct', 'direct']);
  assert.deepEqual(passes.map((pass) => native.convAlgo(shapes[5], pass, 2)), ['batched', 'batched', 'batched']);
  // 1×1 layers with few output channels: runs of images by GEMM on maps up to 16×16 (MobileNetV2's
  // at 3×32×32), the direct loops from 28×28 on, where their weight gradient wins.
  const pointwise = (hw: number) => conv({ n: 64, cIn: 96, h: hw, w: hw, cOut: 24, kh: 1, kw: 1, padT: 0, padB: 0, padL: 0, padR: 0 });
  assert.deepEqual(passes.map((pass) => native.convAlgo(pointwise(8), pass, 2)), ['by-image', 'by-image', 'by-image']);
  assert.deepEqual(passes.map((pass) => native.convAlgo(pointwise(16), pass, 2)), ['by-image', 'by-image', 'by-image']);
  assert.deepEqual(passes.map((pass) => native.convAlgo(pointwise(28), pass, 2)), ['direct', 'by-image', 'direct']);
  // A stem's forward pass (3 input channels, 16+ output channels) takes by-image's few-channel loops,
  // where the grid path took a stride-1 one; LeNet's first layer (6 output channels) stays direct.
  const stem = (stride: number, cOut: number) => conv({ n: 64, cIn: 3, h: 32, w: 32, cOut, strideH: stride, strideW: stride });
  assert.equal(native.convAlgo(stem(2, 32), 'forward', 2), 'by-image');
  assert.equal(native.convAlgo(stem(1, 64), 'forward', 2), 'by-image');
  assert.equal(native.convAlgo(conv({ n: 64, cIn: 1, h: 28, w: 28, cOut: 6, kh: 5, kw: 5, padT: 0, padB: 0, padL: 0, padR: 0 }), 'forward', 2), 'direct');
  // DenseNet's 3×3 layers at 3×32×32 (128 → 32 on 4×4 maps): the forward pass with the output channels in the lanes.
  assert.equal(native.convAlgo(conv({ n: 128, cIn: 128, h: 4, w: 4, cOut: 32 }), 'forward', 2), 'lanes');
  assert.throws(() => native.convAlgo(shapes[0], 'sideways' as ConvPass, 2), { name: 'RangeError', message: /unknown pass/ });
});

test('each pinned path runs where it suits, the batched path elsewhere, and matches conv2d_ref', () => {
  const algos: ConvAlgoName[] = ['depthwise', 'direct', 'grid', 'by-image', 'batched', 'dense-map', 'lanes'];
  try {
    for (const algo of algos) {
      native.setConvAlgo(algo);
      const ran = new Set<string>();
      for (const p of shapes) {
        for (const pass of passes) {
          const path = native.convAlgo(p, pass, 4);
          assert.ok(path === algo || path === 'batched', `${algo} pinned but ${path} runs`);
          ran.add(path);
        }
        checkAgainstReference(p, 4);
      }
      assert.ok(ran.has(algo), `no shape ran ${algo}`);
    }
  } finally {
    native.setConvAlgo('auto');
  }
  assert.throws(() => native.setConvAlgo('im2col' as ConvAlgoName), { name: 'RangeError', message: /unknown convolution algorithm 'im2col'/ });
});

test('conv2dForward refuses a clamp that is not [lo, hi] with lo <= hi and a residual of another size', () => {
  const p = shapes[0], ys = shapeSize(convOutputShape(p));
  const call = (clamp: unknown) => native.conv2dForward({ ...p, clamp } as ConvParams, rand(p.n * p.cIn * p.h * p.w), rand(p.cOut * 9), null, new Float32Array(ys), 1);
  assert.throws(() => call([1, 0]), { name: 'RangeError', message: /params\.clamp to be \[min, max\] with min <= max/ });
  assert.throws(() => call([0]), { name: 'RangeError', message: /params\.clamp to hold 2 numbers/ });
  assert.throws(() => call(0), { name: 'TypeError', message: /array of numbers for params\.clamp/ });
  assert.throws(() => native.conv2dForward({ ...p, residual: new Float32Array(ys - 1) }, rand(p.n * p.cIn * p.h * p.w), rand(p.cOut * 9), null, new Float32Array(ys), 1),
    { name: 'RangeError', message: /params\.residual/ });
});

test('CNN_CONV_ALGO with an unknown name is one line and exit 2', () => {
  const bad = runCli(['doctor'], { CNN_CONV_ALGO: 'fastest' });
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /^cnn: (error: )?CNN_CONV_ALGO: unknown convolution algorithm 'fastest' \(expected auto, depthwise, direct, grid, by-image, batched, winograd, dense-map or lanes\)\n$/);
  assert.equal(runCli(['doctor'], { CNN_CONV_ALGO: 'batched' }).status, 0);
});
