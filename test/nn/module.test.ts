import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import * as ops from '../../src/tensor/ops.js';
import { Module, StateDictError } from '../../src/nn/module.js';
import { Sequential, Flatten, Identity } from '../../src/nn/container.js';
import { Conv2d } from '../../src/nn/conv.js';
import { BatchNorm2d } from '../../src/nn/norm.js';
import { Linear } from '../../src/nn/linear.js';
import { ReLU } from '../../src/nn/activation.js';
import { Dropout } from '../../src/nn/dropout.js';
import { receptiveField } from '../../src/nn/shape.js';

class Net extends Module {
  readonly conv1 = this.registerModule('conv1', new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 3, padding: 1 }));
  readonly bn1 = this.registerModule('bn1', new BatchNorm2d({ numFeatures: 2 }));
  readonly head = this.registerModule('head', new Sequential(new Flatten(), new Dropout(0.5), new Linear({ inFeatures: 2 * 4 * 4, outFeatures: 3 })));
  forward(x: Tensor): Tensor {
    return this.head.call(ops.relu(this.bn1.call(this.conv1.call(x))));
  }
}

test('state dict names, order and buffers follow PyTorch', () => {
  const net = new Net();
  assert.deepEqual([...net.stateDict().keys()], [
    'conv1.weight', 'conv1.bias', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked',
    'head.2.weight', 'head.2.bias',
  ]);
  assert.deepEqual([...net.namedParameters()].map(([k]) => k), ['conv1.weight', 'conv1.bias', 'bn1.weight', 'bn1.bias', 'head.2.weight', 'head.2.bias']);
  assert.deepEqual([...net.int64Keys()], ['bn1.num_batches_tracked']);
  assert.deepEqual([...net.namedModules()].map(([k]) => k), ['', 'conv1', 'bn1', 'head', 'head.0', 'head.1', 'head.2']);
  assert.equal(net.getSubmodule('head.2') instanceof Linear, true);
  assert.equal(net.getSubmodule('head.9'), null);
});

test('loadStateDict copies in place and names missing, unexpected and mismatched keys', () => {
  const a = new Net(), b = new Net();
  const wBefore = b.conv1.weight;
  b.loadStateDict(a.stateDict());
  assert.equal(b.conv1.weight, wBefore, 'same tensor object, so optimizers keep their references');
  assert.deepEqual(b.conv1.weight.toArray(), a.conv1.weight.toArray());
  const partial = new Map(a.stateDict());
  partial.delete('head.2.bias');
  partial.set('extra.weight', Tensor.zeros([1]));
  assert.throws(() => b.loadStateDict(partial), (e: Error) => e instanceof StateDictError
    && /Missing key\(s\) in state_dict: "head.2.bias"/.test(e.message) && /Unexpected key\(s\) in state_dict: "extra.weight"/.test(e.message));
  const r = b.loadStateDict(partial, { strict: false });
  assert.deepEqual(r.missing, ['head.2.bias']);
  assert.deepEqual(r.unexpected, ['extra.weight']);
  assert.deepEqual(r.skipped, []);
  assert.equal(r.loaded.length, 8);
  const wrong = new Map(a.stateDict());
  wrong.set('head.2.weight', Tensor.zeros([3, 5]));
  assert.throws(() => b.loadStateDict(wrong, { strict: false }), /size mismatch for head.2.weight: copying a param with shape \[3, 5\] from checkpoint, the shape in current model is \[3, 32\]/);
});

test('loadStateDict skips mismatched shapes only when asked, and reports them', () => {
  const a = new Net(), b = new Net();
  const before = b.head.at(2).getLocal('weight')!.toArray();
  const wrong = new Map(a.stateDict());
  wrong.set('head.2.weight', Tensor.ones([3, 5]));
  const r = b.loadStateDict(wrong, { strict: false, skipMismatched: true });
  assert.deepEqual(r.skipped.map((s) => [s.key, s.reason]), [['head.2.weight', 'shape [3, 5] in the file, [3, 32] in the model']]);
  assert.deepEqual(r.loaded, [...a.stateDict().keys()].filter((k) => k !== 'head.2.weight'));
  assert.deepEqual(b.head.at(2).getLocal('weight')!.toArray(), before, 'the skipped tensor keeps its own values');
  assert.deepEqual(b.conv1.weight.toArray(), a.conv1.weight.toArray());
  // strict still applies to missing and unexpected keys when mismatches are skipped
  wrong.delete('conv1.bias');
  assert.throws(() => b.loadStateDict(wrong, { skipMismatched: true }), /Missing key\(s\) in state_dict: "conv1.bias"/);
});

test('train/eval reach every module; zeroGrad and requiresGrad(false) freeze', () => {
  const net = new Net();
  net.eval();
  assert.ok([...net.modules()].every((m) => !m.training));
  net.train();
  assert.ok([...net.modules()].every((m) => m.training));
  ops.sum(net.call(Tensor.randn([2, 1, 4, 4]))).backward();
  assert.ok(net.parameters().every((p) => p.grad));
  net.zeroGrad();
  assert.ok(net.parameters().every((p) => p.grad === null));
  net.conv1.requiresGrad(false);
  ops.sum(net.call(Tensor.randn([2, 1, 4, 4]))).backward();
  assert.equal(net.conv1.weight.grad, null);
  assert.ok(net.head.parameters().every((p) => p.grad));
  const visited: string[] = [];
  net.apply((m) => visited.push(m.typeName));
  assert.deepEqual(visited, ['Conv2d', 'BatchNorm2d', 'Flatten', 'Dropout', 'Linear', 'Sequential', 'Net']);
});

test('forward hooks see inputs and output, can replace it, and can be removed', () => {
  const net = new Net().eval();
  const x = Tensor.randn([1, 1, 4, 4]);
  const seen: number[][] = [];
  const h = net.conv1.registerForwardHook((m, inputs, out) => {
    assert.equal(m, net.conv1);
    assert.equal(inputs[0], x);
    seen.push([...out.shape]);
    return ops.mulScalar(out, 0);
  });
  const zeroed = net.call(x);
  assert.deepEqual(seen, [[1, 2, 4, 4]]);
  h.remove();
  const normal = net.call(x);
  assert.notDeepEqual(zeroed.toArray(), normal.toArray());
  assert.equal(seen.length, 1);
});

test('full backward hooks get gradOutput and gradInput as in PyTorch', () => {
  const lin = new Linear({ inFeatures: 3, outFeatures: 2 });
  const x = Tensor.randn([4, 3], { requiresGrad: true });
  let got: { gin: (Tensor | null)[]; gout: Tensor[] } | null = null;
  const h = lin.registerFullBackwardHook((_, gin, gout) => { got = { gin, gout }; });
  const y = lin.call(x);
  const gy = Tensor.randn([4, 2]);
  y.backward(gy);
  assert.ok(got);
  const { gin, gout } = got as { gin: (Tensor | null)[]; gout: Tensor[] };
  assert.deepEqual(gout[0].toArray(), gy.toArray());
  // grad_input = grad_output · W
  const expected = ops.matmul(gy, lin.weight.detach());
  gin[0]!.data.forEach((v, i) => assert.ok(Math.abs(v - expected.data[i]) < 1e-5));
  assert.deepEqual(gin[0]!.toArray(), x.grad!.toArray());
  // The input needs no gradient: the hook still runs, with gradInput [null].
  got = null;
  lin.call(Tensor.randn([4, 3])).backward(gy);
  assert.equal((got as unknown as { gin: (Tensor | null)[] }).gin[0], null);
  // A returned gradInput replaces the input's gradient.
  h.remove();
  lin.registerFullBackwardHook((_, gin) => [ops.mulScalar(gin[0]!, 0)]);
  x.grad = null;
  lin.call(x).backward(gy);
  assert.ok(x.grad!.data.every((v) => v === 0));
});

test('containers: Sequential order and indexing, Identity, Flatten ranges', () => {
  const s = new Sequential(new ReLU(), new Identity());
  assert.equal(s.length, 2);
  assert.ok(s.at(-1) instanceof Identity);
  assert.throws(() => s.at(2), /out of range/);
  assert.deepEqual([...new Flatten().call(Tensor.zeros([2, 3, 4, 5])).shape], [2, 60]);
  assert.deepEqual([...new Flatten(0, 1).call(Tensor.zeros([2, 3, 4])).shape], [6, 4]);
});

// convOutputSize: test/tensor/shape.test.ts.
test('receptiveField follows the chain rule of kernel sizes and strides', () => {
  const rf = receptiveField([
    { kernelSize: 3, stride: 1 }, { kernelSize: 3, stride: 1 }, { kernelSize: 2, stride: 2 },
    { kernelSize: 3, stride: 1 }, { kernelSize: 3, stride: 1 }, { kernelSize: 2, stride: 2 },
  ]);
  assert.equal(rf.size, 16);
  assert.equal(rf.jump, 4);
  assert.equal(receptiveField([{ kernelSize: 3, dilation: 2 }]).size, 5);
});
