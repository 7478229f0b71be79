// pad2d against PyTorch 1.13 (test/fixtures/pad.safetensors), finite differences, bad arguments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { pad2d, type Pad2dPadding } from '../../src/tensor/pad.js';
import { native, type PadMode, type PadParams } from '../../src/tensor/native.js';
import { Generator } from '../../src/tensor/random.js';
import { loadFixture } from '../helpers/fixtures.js';
import { assertClose, FORWARD, GRADIENT } from '../helpers/assert.js';
import { gradcheck } from '../helpers/gradcheck.js';

interface PadCase { pad: Pad2dPadding; mode: PadMode; value: number }

test('pad2d forward and gradients match PyTorch in every mode', () => {
  const cases = loadFixture<PadCase>('pad.safetensors');
  assert.deepEqual([...new Set(cases.map((c) => c.params.mode))].sort(), ['circular', 'reflect', 'replicate', 'zeros']);
  for (const { name, params: p, t } of cases) {
    const x = t.x.clone().requiresGrad_();
    const out = pad2d(x, p.pad, p.mode, p.value);
    assertClose(out, t.out, FORWARD, `${name} out`);
    out.backward(t.gout);
    assertClose(x.grad!, t.gx, GRADIENT, `${name} gx`);
  }
});

test('pad2d gradients match finite differences', () => {
  const g = new Generator(21);
  for (const mode of ['zeros', 'reflect', 'replicate', 'circular'] as const) {
    gradcheck((x) => pad2d(x, [2, 1, 0, 3], mode, 0.5), [Tensor.randn([2, 2, 4, 5], { generator: g })], `pad2d ${mode}`);
  }
});

test('pad2d with zero pads is the identity and the default mode is zeros', () => {
  const x = Tensor.randn([1, 2, 3, 3], { generator: new Generator(2) });
  assert.deepEqual(pad2d(x, [0, 0, 0, 0], 'reflect').toArray(), x.toArray());
  const z = pad2d(Tensor.ones([1, 1, 1, 1]), [1, 0, 0, 1]);
  assert.deepEqual(z.shape, [1, 1, 2, 2]);
  assert.deepEqual(z.toArray(), [0, 1, 0, 0]);
});

test('bad pad2d arguments throw clear errors', () => {
  const x = Tensor.zeros([1, 1, 3, 4]);
  assert.throws(() => pad2d(x, [4, 0, 0, 0], 'reflect'), /Padding size should be less than the corresponding input dimension/);
  assert.throws(() => pad2d(x, [0, 0, 0, 3], 'reflect'), /Padding size should be less than/);
  assert.throws(() => pad2d(x, [5, 0, 0, 0], 'circular'), /wrapping around more than once/);
  assert.throws(() => pad2d(x, [0, 0, 4, 0], 'circular'), /wrapping around more than once/);
  assert.throws(() => pad2d(Tensor.zeros([3, 4]), [1, 1, 1, 1]), /expected a 3-D .* or 4-D/);
  assert.throws(() => pad2d(Tensor.zeros([1, 1, 1, 3, 4]), [1, 1, 1, 1]), /expected a 3-D/);
  assert.throws(() => pad2d(x, [1, 1, 1] as unknown as Pad2dPadding), TypeError);
  assert.throws(() => pad2d(x, [1.5, 1, 1, 1]), TypeError);
  assert.throws(() => pad2d(x, [-1, 1, 1, 1]), /negative padding/);
  assert.throws(() => pad2d(x, [1, 1, 1, 1], 'mirror' as PadMode), /unknown padding mode/);
});

test('bad native pad calls throw TypeError/RangeError instead of crashing', () => {
  const x = new Float32Array(12), y = new Float32Array(30);
  const p: PadParams = { mode: 'zeros', planes: 1, h: 3, w: 4, left: 1, right: 1, top: 1, bottom: 1 };
  native.pad2dForward(p, 0, x, y, 1);
  assert.throws(() => native.pad2dForward(p, 0, x, new Float32Array(29), 1), { name: 'RangeError', message: /y to hold 30/ });
  assert.throws(() => native.pad2dForward(p, 0, new Float32Array(13), y, 1), RangeError);
  assert.throws(() => native.pad2dForward({ ...p, mode: 'reflect', left: 4, right: 0 }, 0, x, new Float32Array(36), 1), RangeError);
  assert.throws(() => native.pad2dForward({ ...p, mode: 'circular', left: 0, right: 0, top: 4, bottom: 0 }, 0, x, new Float32Array(28), 1), RangeError);
  assert.throws(() => native.pad2dForward({ ...p, mode: 'wrap' as PadMode }, 0, x, y, 1), /unknown padding mode 'wrap'/);
  assert.throws(() => native.pad2dForward({ ...p, left: 1.5 }, 0, x, y, 1), { name: 'TypeError', message: /params.left/ });
  assert.throws(() => native.pad2dForward({ ...p, left: -1 }, 0, x, y, 1), RangeError);
  assert.throws(() => native.pad2dForward(p, '0' as unknown as number, x, y, 1), TypeError);
  assert.throws(() => native.pad2dBackward({ ...p, mode: 'replicate' }, y, new Float32Array(11), 1), RangeError);
  assert.throws(() => native.pad2dBackward({ ...p, mode: 'replicate', h: 0, left: 0, right: 0, bottom: 0 }, new Float32Array(4), new Float32Array(0), 1), RangeError);
  assert.throws(() => (native.pad2dBackward as unknown as (...a: unknown[]) => void)(p), TypeError);
  assert.throws(() => (native.pad2dBackward as unknown as (...a: unknown[]) => void)(null, y, x, 1), /object for params/);
});
