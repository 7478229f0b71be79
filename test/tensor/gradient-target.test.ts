// A leaf's gradient written by the backward kernel straight into the leaf's own gradient storage
// (Tensor.gradientTarget), not into a step buffer and then copied: the same gradients bit for bit
// as the copying path, a weight used twice in one graph still gets the sum of both, and a hook
// on the weight still sees (and may replace) the gradient.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { Generator } from '../../src/tensor/random.js';
import { native } from '../../src/tensor/native.js';
import { StepBuffers } from '../../src/tensor/storage.js';
import { conv2d, linear, sum, mul, reshape } from '../../src/tensor/ops.js';
import { Adam } from '../../src/optim/index.js';

interface Net {
  w: Tensor;
  b: Tensor;
  fw: Tensor;
  fb: Tensor;
}

function makeNet(): Net {
  const g = new Generator(5);
  const leaf = (shape: number[]) => {
    const t = Tensor.randn(shape, { generator: g });
    t.requiresGrad = true;
    return t;
  };
  return { w: leaf([6, 3, 3, 3]), b: leaf([6]), fw: leaf([4, 6 * 8 * 8]), fb: leaf([4]) };
}

const input = () => Tensor.randn([2, 3, 8, 8], { generator: new Generator(9) });

/** A loss that uses the conv weight once, or twice (the same conv on x and on 2x), and the linear layer once. */
function loss(n: Net, x: Tensor, twice: boolean): Tensor {
  let y = conv2d(x, n.w, n.b, { padding: [1, 1, 1, 1] });
  if (twice) y = y.add(conv2d(mul(x, x), n.w, n.b, { padding: [1, 1, 1, 1] }));
  const z = linear(reshape(y, [2, 6 * 8 * 8]), n.fw, n.fb);
  return sum(mul(z, z));
}

/** The outputs the weight-gradient kernels were given, by call. */
function kernelOutputs(fn: () => void): Float32Array[] {
  const conv = native.conv2dBackwardWeight, lin = native.linearBackward;
  const seen: Float32Array[] = [];
  native.conv2dBackwardWeight = (p, x, dy, dw, db, t) => { seen.push(dw); return conv(p, x, dy, dw, db, t); };
  native.linearBackward = (p, x, w, dy, dx, dw, db, t) => { if (dw) seen.push(dw); return lin(p, x, w, dy, dx, dw, db, t); };
  try {
    fn();
  } finally {
    native.conv2dBackwardWeight = conv;
    native.linearBackward = lin;
  }
  return seen;
}

/** Two steps' gradients of every parameter, with flat storage (and step buffers) or without. */
function gradients(flat: boolean, twice: boolean, hook?: (n: Net) => void) {
  const n = makeNet();
  const params = [n.w, n.b, n.fw, n.fb];
  const opt = new Adam(params, { lr: 1e-2 });
  if (flat) opt.useFlatStorage();
  hook?.(n);
  const buffers = new StepBuffers();
  const grads: Float32Array[][] = [];
  let outputs: Float32Array[] = [];
  for (let s = 0; s < 2; s++) {
    if (flat) buffers.begin();
    opt.zeroGrad();
    outputs = kernelOutputs(() => loss(n, input(), twice).backward());
    grads.push(params.map((p) => p.grad!.data.slice()));
    opt.step();
    if (flat) buffers.end();
  }
  return { grads, outputs, opt, n };
}

test('conv and linear weight gradients are written in the flat gradient buffer, the same bits as copied', () => {
  const flat = gradients(true, false), plain = gradients(false, false);
  assert.deepEqual(flat.grads, plain.grads);
  const storage = flat.opt.flatStorage!;
  assert.equal(flat.outputs.length, 2);
  // The walk reaches the linear layer first.
  for (const [i, p] of [flat.n.fw, flat.n.w].entries()) {
    // The kernel's output is the parameter's own place in the flat buffer, and .grad is that place.
    assert.ok(flat.outputs[i].buffer === storage.grad.buffer, `output ${i} in the flat buffer`);
    assert.equal(flat.outputs[i].byteOffset, p.grad!.data.byteOffset);
    assert.ok(p.grad!.data.buffer === storage.grad.buffer);
  }
});

test('a weight used twice in one graph gets the sum of both gradients (the second goes to its own buffer)', () => {
  const flat = gradients(true, true), plain = gradients(false, true);
  assert.deepEqual(flat.grads, plain.grads);
  const storage = flat.opt.flatStorage!;
  assert.equal(flat.outputs.length, 3);
  assert.equal(flat.outputs.filter((o) => o.buffer === storage.grad.buffer).length, 2, 'the first conv gradient and the linear one');
  assert.ok(flat.n.w.grad!.data.buffer === storage.grad.buffer);
});

test('a hook on the weight sees its gradient and its replacement is what the weight keeps', () => {
  let seen = 0;
  const hook = (n: Net) => n.w.registerHook((g) => { seen += g.data[0]; return mul(g, Tensor.from([2], [1])); });
  const flat = gradients(true, false, hook), plain = gradients(false, false, hook);
  assert.deepEqual(flat.grads, plain.grads);
  assert.notEqual(seen, 0);
  // Hooked: the conv kernel (after the linear one) wrote into a step buffer, not the flat one.
  assert.ok(flat.outputs[0].buffer === flat.opt.flatStorage!.grad.buffer);
  assert.ok(flat.outputs[1].buffer !== flat.opt.flatStorage!.grad.buffer);
});

test('a backward walk that throws after a gradient was lent does not keep it lent', () => {
  const n = makeNet();
  const opt = new Adam([n.w, n.b, n.fw, n.fb]).useFlatStorage();
  const bad = reshape(conv2d(input(), n.w, n.b, { padding: [1, 1, 1, 1] }), [2 * 6 * 8 * 8]);
  // The walk accepts the bias before the weight: a bias hook that throws ends it with the
  // weight's gradient lent to the conv kernel and never accepted.
  n.b.registerPostAccumulateGradHook(() => { throw new Error('stop'); });
  opt.zeroGrad();
  assert.throws(() => sum(mul(bad, bad)).backward(), /stop/);
  opt.zeroGrad();
  const outputs = kernelOutputs(() => {
    try {
      sum(mul(bad, bad)).backward();
    } catch {
      // the bias hook throws again; the weight's kernel output is what this test looks at
    }
  });
  assert.ok(outputs[0].buffer === opt.flatStorage!.grad.buffer);
});
