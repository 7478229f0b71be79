// Layers with their PyTorch options against torch.nn modules (test/fixtures/gen.py gen_layers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import * as ops from '../../src/tensor/ops.js';
import { Module } from '../../src/nn/module.js';
import { Conv2d, ConvTranspose2d, type Conv2dOptions } from '../../src/nn/conv.js';
import { BatchNorm1d, BatchNorm2d } from '../../src/nn/norm.js';
import { Linear } from '../../src/nn/linear.js';
import { loadFixture } from '../helpers/fixtures.js';
import { assertClose, FORWARD, GRADIENT } from '../helpers/assert.js';

interface LayerCase {
  kind: 'conv' | 'convtranspose' | 'bn2d' | 'bn1d' | 'linear';
  train: boolean;
  steps: number;
  [option: string]: unknown;
}

function build(p: LayerCase): Module {
  switch (p.kind) {
    case 'conv': return new Conv2d(p as unknown as Conv2dOptions);
    case 'convtranspose': return new ConvTranspose2d(p as never);
    case 'bn2d': return new BatchNorm2d(p as never);
    case 'bn1d': return new BatchNorm1d(p as never);
    case 'linear': return new Linear(p as never);
  }
}

test('layers match torch.nn for every option in the fixtures', () => {
  const cases = loadFixture<LayerCase>('layers.safetensors');
  assert.ok(cases.length >= 18);
  for (const { name, params, t } of cases) {
    const m = build(params);
    const state = new Map(Object.entries(t).filter(([k]) => k.startsWith('state.')).map(([k, v]) => [k.slice(6), v]));
    m.loadStateDict(state, { strict: false });
    m.train(params.train);
    const x = t.x.clone().requiresGrad_();
    let y = m.call(x);
    for (let i = 1; i < params.steps; i++) y = m.call(x);
    assertClose(y, t.y, FORWARD, `${name} y`);
    y.backward(t.gy);
    assertClose(x.grad!, t.gx, GRADIENT, `${name} gx`);
    for (const [k, p] of m.namedParameters()) assertClose(p.grad!, t[`grad.${k}`], GRADIENT, `${name} grad.${k}`);
    for (const [k, b] of m.namedBuffers()) {
      if (t[`after.${k}`]) assertClose(b, t[`after.${k}`], FORWARD, `${name} ${k} after ${params.steps} step(s)`);
    }
  }
});

test('Conv2d validates options as PyTorch does', () => {
  assert.throws(() => new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, groups: 2 }), /in_channels must be divisible by groups/);
  assert.throws(() => new Conv2d({ inChannels: 4, outChannels: 3, kernelSize: 3, groups: 2 }), /out_channels must be divisible by groups/);
  assert.throws(() => new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, padding: 'same', stride: 2 }), /not supported for strided convolutions/);
  assert.throws(() => new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, padding: 'full' as never }), /Invalid padding string 'full'/);
  assert.throws(() => new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, paddingMode: 'mirror' as never }), /padding_mode must be one of/);
  assert.throws(() => new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 0 }), /kernelSize/);
  assert.throws(() => new ConvTranspose2d({ inChannels: 1, outChannels: 1, kernelSize: 3, paddingMode: 'reflect' as never }), /Only "zeros" padding mode/);
  const conv = new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3 });
  assert.throws(() => conv.call(Tensor.zeros([1, 2, 8, 8])), /expected input\[1, 2, 8, 8\] to have 3 channels, but got 2 channels/);
  assert.throws(() => conv.call(Tensor.zeros([8, 8])), /Expected 3D \(unbatched\) or 4D \(batched\) input/);
  assert.throws(() => new BatchNorm2d({ numFeatures: 3 }).call(Tensor.zeros([2, 3, 4])), /expected 4D input \(got 3D input\)/);
  assert.throws(() => new BatchNorm2d({ numFeatures: 3 }).call(Tensor.zeros([2, 4, 2, 2])), /running_mean should contain 4 elements not 3/);
});

test("'same' padding puts the odd extra pixel at the bottom and right", () => {
  const c = new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 4, padding: 'same' });
  assert.deepEqual(c.pads, [1, 2, 1, 2]);
  const d = new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: [3, 4], padding: 'same', dilation: [2, 1] });
  assert.deepEqual(d.pads, [2, 2, 1, 2]);
  assert.deepEqual([...d.call(Tensor.zeros([1, 1, 5, 6])).shape], [1, 1, 5, 6]);
});

test('default initialization follows PyTorch: kaiming-uniform(a=√5) weights, bias within ±1/√fan_in', () => {
  const c = new Conv2d({ inChannels: 8, outChannels: 16, kernelSize: 3 });
  const bound = 1 / Math.sqrt(8 * 9);
  assert.ok(c.weight.data.every((v) => Math.abs(v) <= bound));
  assert.ok(c.bias!.data.every((v) => Math.abs(v) <= bound));
  // A uniform on [-b, b] has variance b²/3.
  const variance = c.weight.data.reduce((s, v) => s + v * v, 0) / c.weight.size;
  assert.ok(Math.abs(variance / (bound * bound / 3) - 1) < 0.15, `variance ${variance}`);
  const bn = new BatchNorm2d({ numFeatures: 4 });
  assert.deepEqual([...bn.weight!.data, ...bn.bias!.data, ...bn.runningVar!.data], [1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]);
  assert.equal(ops.sum(Tensor.from([...new Linear({ inFeatures: 4, outFeatures: 2 }).weight.data].map(Math.abs))).item() > 0, true);
});

test('linear starts every row from the bias (filled by doubling copies): with zero weights each row is the bias, for batches of 0 to 65 rows', () => {
  const bias = Tensor.from([1.5, -2.25, 3e-8]);
  const w = Tensor.zeros([3, 4]);
  for (const n of [0, 1, 2, 3, 5, 64, 65]) {
    const y = ops.linear(Tensor.randn([n, 4]), w, bias);
    assert.deepEqual([...y.shape], [n, 3]);
    for (let i = 0; i < n; i++) assert.deepEqual([...y.data.subarray(3 * i, 3 * i + 3)], [...bias.data], `row ${i} of ${n}`);
  }
});
