// convTranspose2d against PyTorch 1.13 (test/fixtures/conv_transpose.safetensors), finite
// differences, and bad arguments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { convTranspose2d } from '../../src/tensor/conv_transpose.js';
import { Generator } from '../../src/tensor/random.js';
import { loadFixture } from '../helpers/fixtures.js';
import { assertClose, FORWARD, GRADIENT } from '../helpers/assert.js';
import { gradcheck } from '../helpers/gradcheck.js';

interface ConvTransposeCase {
  kernelSize: [number, number]; stride: [number, number]; padding: [number, number];
  outputPadding: [number, number]; dilation: [number, number]; groups: number; bias: boolean;
}

test('convTranspose2d forward and gradients match PyTorch', () => {
  const cases = loadFixture<ConvTransposeCase>('conv_transpose.safetensors');
  assert.ok(cases.length >= 10);
  for (const { name, params: p, t } of cases) {
    const x = t.x.clone().requiresGrad_(), w = t.weight.clone().requiresGrad_();
    const b = p.bias ? t.bias.clone().requiresGrad_() : null;
    const y = convTranspose2d(x, w, b, { stride: p.stride, padding: p.padding, outputPadding: p.outputPadding, dilation: p.dilation, groups: p.groups });
    assertClose(y, t.y, FORWARD, `${name} y`);
    y.backward(t.gy);
    assertClose(x.grad!, t.gx, GRADIENT, `${name} gx`);
    assertClose(w.grad!, t.gweight, GRADIENT, `${name} gweight`);
    if (b) assertClose(b.grad!, t.gbias, GRADIENT, `${name} gbias`);
  }
});

test('convTranspose2d gradients match finite differences', () => {
  const g = new Generator(31);
  const x = Tensor.randn([1, 4, 3, 4], { generator: g });
  const w = Tensor.randn([4, 3, 3, 2], { generator: g });
  const b = Tensor.randn([6], { generator: g });
  gradcheck((xx, ww, bb) => convTranspose2d(xx, ww, bb, { stride: [2, 3], padding: [1, 0], outputPadding: [1, 2], groups: 2 }),
    [x, w, b], 'convTranspose2d');
  gradcheck((xx, ww) => convTranspose2d(xx, ww, null, { stride: [1, 1], padding: [1, 1], outputPadding: [2, 0], dilation: [3, 2] }),
    [Tensor.randn([1, 2, 4, 3], { generator: g }), Tensor.randn([2, 2, 3, 3], { generator: g })], 'convTranspose2d dilated crop');
});

test('an output no window reaches holds only the bias, and its gradients are zero', () => {
  // H = 1, k = 1, stride 3, padding 1, outputPadding 2: Hout = 1 but row 0 is padding.
  const x = Tensor.randn([1, 2, 1, 1], { generator: new Generator(4) }).requiresGrad_();
  const w = Tensor.randn([2, 3, 1, 1], { generator: new Generator(5) }).requiresGrad_();
  const b = Tensor.from([1, 2, 3]).requiresGrad_();
  const y = convTranspose2d(x, w, b, { stride: [3, 3], padding: [1, 1], outputPadding: [2, 2] });
  assert.deepEqual(y.shape, [1, 3, 1, 1]);
  assert.deepEqual(y.toArray(), [1, 2, 3]);
  y.backward(Tensor.ones(y.shape));
  assert.deepEqual(x.grad!.toArray(), [0, 0]);
  assert.deepEqual(w.grad!.toArray(), [0, 0, 0, 0, 0, 0]);
  assert.deepEqual(b.grad!.toArray(), [1, 1, 1]);
});

test('bad convTranspose2d arguments throw clear errors', () => {
  const x = Tensor.zeros([1, 4, 3, 3]), w = Tensor.zeros([4, 2, 3, 3]);
  assert.throws(() => convTranspose2d(x, w, null, { stride: [2, 2], outputPadding: [2, 0] }), /output padding must be smaller than either stride or dilation/);
  assert.throws(() => convTranspose2d(x, w, null, { outputPadding: [1, 1] }), /output padding must be smaller/);
  assert.throws(() => convTranspose2d(Tensor.zeros([4, 3, 3]), w, null), /expected a 4-D input/);
  assert.throws(() => convTranspose2d(x, Tensor.zeros([4, 2, 3]), null), /expected a 4-D weight/);
  assert.throws(() => convTranspose2d(Tensor.zeros([1, 3, 3, 3]), w, null), /expected input \[1, 3, 3, 3\] to have 4 channels/);
  assert.throws(() => convTranspose2d(x, w, null, { groups: 3 }), /groups \(3\) must divide/);
  assert.throws(() => convTranspose2d(x, w, Tensor.zeros([3]), {}), /bias \[3\] does not match 2 output channels/);
  assert.throws(() => convTranspose2d(x, w, null, { padding: [3, 3] }), /Output size is too small/);
  assert.throws(() => convTranspose2d(x, w, null, { stride: [1.5, 1] }), TypeError);
  assert.throws(() => convTranspose2d(x, w, null, { stride: [0, 1] }), RangeError);
  assert.throws(() => convTranspose2d(x, w, null, { padding: [-1, 0] }), RangeError);
});
