// Every foundation op against PyTorch 1.13 golden values (test/fixtures/gen.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import * as ops from '../../src/tensor/ops.js';
import { native, getThreads } from '../../src/tensor/native.js';
import { loadFixture } from '../helpers/fixtures.js';
import { assertClose, FORWARD, GRADIENT } from '../helpers/assert.js';

interface GemmCase { m: number; n: number; k: number; transA: boolean; transB: boolean; alpha: number; beta: number }

test('gemm matches PyTorch for every shape, transpose and alpha/beta', () => {
  const cases = loadFixture<GemmCase>('gemm.safetensors');
  assert.ok(cases.length >= 10);
  for (const { name, params: p, t } of cases) {
    const gp = { ...p, lda: p.transA ? p.m : p.k, ldb: p.transB ? p.k : p.n, ldc: p.n };
    for (const [label, run] of [
      ['gemm', (c: Float32Array) => native.gemm(gp, t.A.data, t.B.data, c, getThreads())],
      ['gemmRef', (c: Float32Array) => native.gemmRef(gp, t.A.data, t.B.data, c)],
    ] as const) {
      const c = t.C.data.slice();
      run(c);
      assertClose(c, t.out.data, FORWARD, `${label} ${name}`);
    }
  }
});

interface ConvCase {
  n: number; cIn: number; h: number; w: number; cOut: number; kh: number; kw: number;
  strideH: number; strideW: number; padT: number; padB: number; padL: number; padR: number;
  dilH: number; dilW: number; groups: number; bias: boolean;
}

test('conv2d forward and gradients match PyTorch', () => {
  const cases = loadFixture<ConvCase>('conv2d.safetensors');
  assert.ok(cases.length >= 20);
  for (const { name, params: p, t } of cases) {
    const x = t.x.clone().requiresGrad_(), w = t.weight.clone().requiresGrad_();
    const b = p.bias ? t.bias.clone().requiresGrad_() : null;
    const y = ops.conv2d(x, w, b, {
      stride: [p.strideH, p.strideW], padding: [p.padT, p.padB, p.padL, p.padR],
      dilation: [p.dilH, p.dilW], groups: p.groups,
    });
    assertClose(y, t.y, FORWARD, `${name} y`);
    y.backward(t.gy);
    assertClose(x.grad!, t.gx, GRADIENT, `${name} gx`);
    assertClose(w.grad!, t.gweight, GRADIENT, `${name} gweight`);
    if (b) assertClose(b.grad!, t.gbias, GRADIENT, `${name} gbias`);
  }
});

test('conv2d reference kernels match PyTorch too', () => {
  for (const { name, params: p, t } of loadFixture<ConvCase>('conv2d.safetensors')) {
    const y = new Float32Array(t.y.size), dx = new Float32Array(t.x.size), dw = new Float32Array(t.weight.size);
    native.conv2dRefForward(p, t.x.data, t.weight.data, p.bias ? t.bias.data : null, y);
    native.conv2dRefBackwardInput(p, t.gy.data, t.weight.data, dx);
    native.conv2dRefBackwardWeight(p, t.x.data, t.gy.data, dw, null);
    assertClose(y, t.y.data, FORWARD, `${name} ref y`);
    assertClose(dx, t.gx.data, GRADIENT, `${name} ref gx`);
    assertClose(dw, t.gweight.data, GRADIENT, `${name} ref gweight`);
  }
});

interface EltwiseCase { op: string }

const binaryOps: Record<string, (a: Tensor, b: Tensor) => Tensor> = { add: ops.add, sub: ops.sub, mul: ops.mul, div: ops.div };

test('broadcasting add/sub/mul/div, relu, sum, mean and matmul match PyTorch', () => {
  const cases = loadFixture<EltwiseCase>('eltwise.safetensors');
  const seen = new Set<string>();
  for (const { name, params, t } of cases) {
    seen.add(params.op);
    if (params.op in binaryOps) {
      const a = t.a.clone().requiresGrad_(), b = t.b.clone().requiresGrad_();
      const out = binaryOps[params.op](a, b);
      assertClose(out, t.out, FORWARD, `${name} out`);
      out.backward(t.gout);
      assertClose(a.grad!, t.ga, GRADIENT, `${name} ga`);
      assertClose(b.grad!, t.gb, GRADIENT, `${name} gb`);
    } else if (params.op === 'relu') {
      const x = t.x.clone().requiresGrad_();
      const out = ops.relu(x);
      assertClose(out, t.out, FORWARD, `${name} out`);
      out.backward(t.gout);
      assertClose(x.grad!, t.gx, GRADIENT, `${name} gx`);
    } else if (params.op === 'sum' || params.op === 'mean') {
      const out = params.op === 'sum' ? ops.sum(t.x) : ops.mean(t.x);
      assertClose(out, t.out, FORWARD, `${name} out`);
    } else if (params.op === 'matmul') {
      const a = t.a.clone().requiresGrad_(), b = t.b.clone().requiresGrad_();
      const out = ops.matmul(a, b);
      assertClose(out, t.out, FORWARD, `${name} out`);
      out.backward(t.gout);
      assertClose(a.grad!, t.ga, GRADIENT, `${name} ga`);
      assertClose(b.grad!, t.gb, GRADIENT, `${name} gb`);
    } else {
      assert.fail(`unknown fixture op ${params.op}`);
    }
  }
  assert.deepEqual([...seen].sort(), ['add', 'div', 'matmul', 'mean', 'mul', 'relu', 'sub', 'sum']);
});
