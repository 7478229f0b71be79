// ops.linear's backward runs dx, dW and db in one native call (linearBackward): the values the
// separate calls it replaced gave (two GEMMs and sumTo's double column sums), bit for bit, for
// every subset of inputs wanting a gradient, on every ISA and at 1-3 threads.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { linear, sum, mul } from '../../src/tensor/ops.js';
import { native, setThreads } from '../../src/tensor/native.js';
import { onEveryIsa } from '../helpers/every-isa.js';
import { assertClose } from '../helpers/assert.js';

function values(n: number, phase: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(0.37 * ((i * i) % 10007) + phase);
  return a;
}

/** dx, dW, db as ops.linear computed them before: two GEMMs and a double sum per column. */
function separateCalls(m: number, inF: number, outF: number, x: Float32Array, w: Float32Array, dy: Float32Array, threads: number) {
  const dx = new Float32Array(m * inF), dw = new Float32Array(outF * inF), db = new Float32Array(outF);
  native.gemm({ transA: false, transB: false, m, n: inF, k: outF, alpha: 1, beta: 0, lda: outF, ldb: inF, ldc: inF }, dy, w, dx, threads);
  native.gemm({ transA: true, transB: false, m: outF, n: inF, k: m, alpha: 1, beta: 0, lda: outF, ldb: inF, ldc: inF }, dy, x, dw, threads);
  native.sumToShape(dy, [m, outF], db, [1, outF]);
  return [dx, dw, db];
}

describe('linear backward in one call', () => {
  it('gives the separate calls\' gradients bit for bit (LeNet\'s layers and odd ones, any subset wanted, every ISA, 1-3 threads)', () => {
    onEveryIsa((isa) => {
      for (const [m, inF, outF] of [[64, 256, 120], [64, 120, 84], [64, 84, 10], [7, 37, 13], [1, 5, 3]]) {
        const dyData = values(m * outF, 3);
        for (const t of [1, 2, 3]) {
          setThreads(t);
          const want = separateCalls(m, inF, outF, values(m * inF, 1), values(outF * inF, 2), dyData, t);
          for (let wanted = 1; wanted < 8; wanted++) {
            const x = new Tensor(values(m * inF, 1), [m, inF], (wanted & 1) !== 0);
            const w = new Tensor(values(outF * inF, 2), [outF, inF], (wanted & 2) !== 0);
            const b = new Tensor(values(outF, 4), [outF], (wanted & 4) !== 0);
            // d(sum(y ⊙ dy))/dy = dy: the backward pass gets exactly dyData.
            sum(mul(linear(x, w, b), new Tensor(dyData, [m, outF]))).backward();
            const label = `${isa} ${m}x${inF}->${outF} wanted ${wanted} threads ${t}`;
            [x, w, b].forEach((p, i) => {
              if (wanted & (1 << i)) assertClose(p.grad!, want[i], { atol: 0, rtol: 0 }, `${label} grad ${i}`);
              else assert.equal(p.grad, null, `${label}: no gradient ${i}`);
            });
          }
        }
      }
    });
  });

  it('the binding refuses buffers of the wrong length', () => {
    const f = (n: number) => new Float32Array(n);
    assert.throws(() => native.linearBackward({ m: 2, inFeatures: 3, outFeatures: 4 }, f(6), f(12), f(8), f(5), null, null, 1), /dx/);
    assert.throws(() => native.linearBackward({ m: 2, inFeatures: 3, outFeatures: 4 }, f(6), f(11), f(8), null, f(12), null, 1), /w/);
  });
});
