// Fusion of Conv2d (→ BatchNorm2d) → ReLU/ReLU6 → MaxPool2d(2): where the direct convolution path
// runs, one native call pools the clamped output as it leaves the kernel (in eval, also where
// Winograd runs; in training for ReLU, keeping the maxima's positions for one recorded backward). Its values, and in training
// its gradients, are the layer-by-layer ones bit for bit (the same convolution, the same max fold,
// the same backward kernels) for every shape the path takes (odd sizes, padding, dilation, groups,
// row blocks over 1-3 threads), and every layer the kernel cannot take (many channels, a stem, a forced
// other path, another pool, ReLU6 in training, hooks) runs unfused.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { Conv2d } from '../../src/nn/conv.js';
import { BatchNorm2d } from '../../src/nn/norm.js';
import { Sequential } from '../../src/nn/container.js';
import { ReLU, ReLU6 } from '../../src/nn/activation.js';
import { MaxPool2d } from '../../src/nn/pool.js';
import type { Module } from '../../src/nn/module.js';
import { Tensor, noGrad } from '../../src/tensor/tensor.js';
import { conv2dMaxPool } from '../../src/tensor/ops.js';
import { native, getThreads, setThreads } from '../../src/tensor/native.js';

function data(shape: readonly number[], phase: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = 4 * Math.sin(0.37 * ((i * i) % 10007) + phase);
  return new Tensor(d, [...shape]);
}

/** Runs fn counting the fused calls that ran (true) and those that declined (false), and those given Winograd's weights. */
function fusedCalls(fn: () => Tensor): { y: Tensor; ran: number; declined: number; winograd: number } {
  const calls = { ran: 0, declined: 0 };
  let winograd = 0;
  const original = native.conv2dMaxPoolForward;
  native.conv2dMaxPoolForward = (...args) => {
    const ran = original(...args);
    calls[ran ? 'ran' : 'declined']++;
    if (args[0].winograd) winograd++;
    return ran;
  };
  try {
    return { y: fn(), ...calls, winograd };
  } finally {
    native.conv2dMaxPoolForward = original;
  }
}

/** The layers one by one, no fusion between them. */
function layerByLayer(layers: Module[], x: Tensor): Tensor {
  return noGrad(() => layers.reduce((t, m) => m.forward(t), x));
}

/** With BatchNorm in eval mode the reference is conv → bn → relu fused (BatchNorm folded, the same
 * weights the pooled call gets), then the pool: only the pooling moved. */
function reference(seq: Sequential, x: Tensor, withBn: boolean): Tensor {
  const layers = [...seq.children()];
  if (!withBn) return layerByLayer(layers, x);
  return noGrad(() => layers[3].forward(new Sequential(layers[0], layers[1], layers[2]).call(x)));
}

const previousThreads = getThreads();
after(() => setThreads(previousThreads));

interface Case { n: number; c: number; h: number; w: number; cOut: number; k: number; pad?: number; dil?: number; groups?: number }
const CASES: Case[] = [
  { n: 3, c: 1, h: 28, w: 28, cOut: 6, k: 5 },                        // LeNet's first layer
  { n: 5, c: 6, h: 12, w: 12, cOut: 16, k: 5 },                       // and its second
  { n: 2, c: 3, h: 11, w: 9, cOut: 7, k: 3, pad: 1 },                 // odd sizes: the last row and column dropped
  { n: 1, c: 4, h: 13, w: 17, cOut: 10, k: 3, pad: 2, dil: 2, groups: 2 },
  { n: 1, c: 5, h: 32, w: 32, cOut: 32, k: 3, pad: 1 },               // 32×32 maps to 32 channels (5 inputs: not a stem), one image in row blocks
];

// Layers Winograd takes in eval (32+ channels from 16 × 16 maps, 64+ below): pooled as the output
// transform leaves each tile, then the bias and clamp (which keep the order, so commute with the max).
const WINOGRAD_CASES: Case[] = [
  { n: 2, c: 32, h: 32, w: 32, cOut: 32, k: 3, pad: 1 },              // simplecnn's second layer: two images an item
  { n: 3, c: 64, h: 16, w: 16, cOut: 64, k: 3, pad: 1 },              // and its fourth
  { n: 2, c: 64, h: 18, w: 15, cOut: 72, k: 3, pad: 1 },              // 18 rows: the last tile row pools one; 15 columns: the last dropped
  { n: 2, c: 65, h: 13, w: 11, cOut: 64, k: 3 },                      // unpadded, odd output sizes
];

for (const [path, cases, winogradCalls] of [['the direct loops', CASES, 0], ['Winograd (eval)', WINOGRAD_CASES, 1]] as const) {
  describe(`conv → relu → max pool 2×2 on ${path} runs as one pooled convolution with the unfused values`, () => {
    for (const threads of [1, 2, 3]) {
      for (const cs of cases) {
        for (const withBn of [false, true]) {
          for (const [actName, act] of [['ReLU', () => new ReLU()], ['ReLU6', () => new ReLU6()]] as const) {
            it(`${JSON.stringify(cs)} ${withBn ? 'bn ' : ''}${actName} threads ${threads}`, () => {
              setThreads(threads);
              const conv = new Conv2d({ inChannels: cs.c, outChannels: cs.cOut, kernelSize: cs.k, padding: cs.pad ?? 0, dilation: cs.dil ?? 1, groups: cs.groups ?? 1 });
              const layers: Module[] = [conv];
              if (withBn) {
                const bn = new BatchNorm2d({ numFeatures: cs.cOut });
                bn.runningMean!.data.set(data([cs.cOut], 1).data);
                bn.runningVar!.data.set(data([cs.cOut], 2).data.map((v) => 0.5 + Math.abs(v)));
                bn.weight!.data.set(data([cs.cOut], 3).data);
                layers.push(bn);
              }
              layers.push(act(), new MaxPool2d({ kernelSize: 2 }));
              const seq = new Sequential(...layers).eval();
              const x = data([cs.n, cs.c, cs.h, cs.w], threads);
              const { y, ran, declined, winograd } = fusedCalls(() => noGrad(() => seq.call(x)));
              assert.deepEqual({ ran, declined, winograd }, { ran: 1, declined: 0, winograd: winogradCalls });
              const want = reference(seq, x, withBn);
              assert.deepEqual(y.shape, want.shape);
              assert.deepEqual(y.data, want.data);
            });
          }
        }
      }
    }
  });
}

describe('in training, conv → ReLU → max pool 2×2 is one recorded pooled convolution with the unfused values and gradients', () => {
  for (const threads of [1, 2, 3]) {
    for (const cs of CASES) {
      it(`${JSON.stringify(cs)} threads ${threads}`, () => {
        setThreads(threads);
        const conv = new Conv2d({ inChannels: cs.c, outChannels: cs.cOut, kernelSize: cs.k, padding: cs.pad ?? 0, dilation: cs.dil ?? 1, groups: cs.groups ?? 1 });
        const seq = new Sequential(conv, new ReLU(), new MaxPool2d({ kernelSize: 2 }));
        const x = data([cs.n, cs.c, cs.h, cs.w], threads);
        x.requiresGrad = true;
        /** The output, then the gradients of x, the weight and the bias for dy (a fixed pattern). */
        const run = (forward: () => Tensor) => {
          x.grad = null;
          seq.zeroGrad();
          const y = forward();
          y.backward(data(y.shape, 5));
          return [y.detach(), x.grad!, conv.weight.grad!, conv.bias!.grad!].map((t) => ({ shape: t.shape, data: t.data }));
        };
        const fused = fusedCalls(() => {
          const out = run(() => seq.call(x));
          return new Tensor(out[0].data, out[0].shape);
        });
        assert.deepEqual({ ran: fused.ran, declined: fused.declined }, { ran: 1, declined: 0 });
        const fusedAll = run(() => seq.call(x));
        const unfused = run(() => [...seq.children()].reduce((t, m) => m.forward(t), x));
        assert.deepEqual(fusedAll, unfused);
      });
    }
  }
});

describe('where the kernel has no pooled path, the layers run one by one', () => {
  it('many output channels (a GEMM path): not asked (the binding declines it), the unfused values', () => {
    setThreads(2);
    const seq = new Sequential(new Conv2d({ inChannels: 8, outChannels: 64, kernelSize: 3, padding: 1 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }));
    const x = data([2, 8, 10, 10], 0);
    const { y, ran, declined } = fusedCalls(() => noGrad(() => seq.call(x)));
    assert.deepEqual({ ran, declined }, { ran: 0, declined: 0 });
    assert.deepEqual(y.data, layerByLayer([...seq.children()], x).data);
    const conv = seq.at(0) as Conv2d, out = new Float32Array(2 * 64 * 25).fill(7);
    const p = { n: 2, cIn: 8, h: 10, w: 10, cOut: 64, kh: 3, kw: 3, strideH: 1, strideW: 1, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 1 };
    assert.equal(native.conv2dMaxPoolForward(p, x.data, conv.weight.data, conv.bias!.data, out, null, 2), false);
    assert.ok(out.every((v) => v === 7));
  });

  it('a stem (3 → 32 channels): the few-channel loops Auto gives it have no pooled path; not asked, the unfused values', () => {
    setThreads(2);
    const seq = new Sequential(new Conv2d({ inChannels: 3, outChannels: 32, kernelSize: 3, padding: 1 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }));
    const x = data([2, 3, 32, 32], 0);
    const { y, ran, declined } = fusedCalls(() => noGrad(() => seq.call(x)));
    assert.deepEqual({ ran, declined }, { ran: 0, declined: 0 });
    assert.deepEqual(y.data, layerByLayer([...seq.children()], x).data);
  });

  it('a forced other path (CNN_CONV_ALGO): not asked', () => {
    setThreads(2);
    const seq = new Sequential(new Conv2d({ inChannels: 1, outChannels: 6, kernelSize: 5 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }));
    const x = data([2, 1, 28, 28], 0);
    native.setConvAlgo('grid');
    try {
      const { y, ran, declined } = fusedCalls(() => noGrad(() => seq.call(x)));
      assert.deepEqual({ ran, declined }, { ran: 0, declined: 0 });
      assert.deepEqual(y.data, layerByLayer([...seq.children()], x).data);
    } finally {
      native.setConvAlgo('auto');
    }
  });

  it('other pools, a hook on the pool, ReLU6 with a recorded gradient: never asked', () => {
    const x = data([2, 1, 28, 28], 0);
    for (const pool of [new MaxPool2d({ kernelSize: 3, stride: 2 }), new MaxPool2d({ kernelSize: 2, ceilMode: true }), new MaxPool2d({ kernelSize: 2, padding: 1 })]) {
      const seq = new Sequential(new Conv2d({ inChannels: 1, outChannels: 6, kernelSize: 5 }), new ReLU(), pool);
      const { y, ran, declined } = fusedCalls(() => noGrad(() => seq.call(x)));
      assert.deepEqual({ ran, declined }, { ran: 0, declined: 0 });
      assert.deepEqual(y.data, layerByLayer([...seq.children()], x).data);
    }
    const seq = new Sequential(new Conv2d({ inChannels: 1, outChannels: 6, kernelSize: 5 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }));
    const handle = seq.at(2).registerForwardHook(() => undefined);
    assert.equal(fusedCalls(() => noGrad(() => seq.call(x))).ran, 0);
    handle.remove();
    const relu6 = new Sequential(new Conv2d({ inChannels: 1, outChannels: 6, kernelSize: 5 }), new ReLU6(), new MaxPool2d({ kernelSize: 2 }));
    const { ran, declined } = fusedCalls(() => relu6.call(x));
    assert.deepEqual({ ran, declined }, { ran: 0, declined: 0 });
  });

  it('conv2dMaxPool refuses a recorded gradient without ReLU\'s clamp; the binding checks its buffers', () => {
    const x = data([1, 1, 8, 8], 0), w = data([2, 1, 3, 3], 1);
    w.requiresGrad = true;
    assert.throws(() => conv2dMaxPool(x, w, null), /clamp must be ReLU's/);
    assert.throws(() => conv2dMaxPool(x, w, null, { clamp: [0, 6] }), /clamp must be ReLU's/);
    const p = { n: 1, cIn: 1, h: 8, w: 8, cOut: 2, kh: 3, kw: 3, strideH: 1, strideW: 1, padT: 0, padB: 0, padL: 0, padR: 0, dilH: 1, dilW: 1, groups: 1 };
    assert.throws(() => native.conv2dMaxPoolForward(p, x.data, w.data, null, new Float32Array(2 * 6 * 6), null, 1), /conv2dMaxPoolForward: expected y to hold 18 floats/);
    assert.throws(() => native.conv2dMaxPoolForward(p, x.data, w.data, null, new Float32Array(18), new Float32Array(17), 1), /expected indices to hold 18 floats/);
    assert.throws(() => native.conv2dMaxPoolForward({ ...p, clamp: [1, 0] }, x.data, w.data, null, new Float32Array(18), null, 1), /min <= max/);
  });
});
