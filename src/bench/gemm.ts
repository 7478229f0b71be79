// GEMM throughput on square sizes and the shapes convolution produces.
import { native, getThreads } from '../tensor/native.js';
import { Generator } from '../tensor/random.js';
import { timeMedian } from './timing.js';

export interface GemmShape {
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
}

export interface GemmResult {
  op: 'gemm';
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  threads: number;
  isa: string;
  gflops: number;
}

/** Squares 256–2048, then a 3×3 convolution on 64 channels at 128×256 pixels: forward, input and weight gradients. */
export const DEFAULT_GEMM_SHAPES: GemmShape[] = [
  { m: 256, n: 256, k: 256 },
  { m: 512, n: 512, k: 512 },
  { m: 1024, n: 1024, k: 1024 },
  { m: 2048, n: 2048, k: 2048 },
  { m: 64, n: 32768, k: 576 },
  { m: 576, n: 1024, k: 64, transA: true },
  { m: 64, n: 576, k: 1024, transB: true },
];

export function benchGemm(shape: GemmShape, threads = getThreads()): GemmResult {
  const { m, n, k } = shape;
  const transA = shape.transA ?? false, transB = shape.transB ?? false;
  const g = new Generator(1);
  const fill = (len: number) => {
    const a = new Float32Array(len);
    for (let i = 0; i < len; i++) a[i] = g.random() - 0.5;
    return a;
  };
  const a = fill(m * k), b = fill(k * n), c = new Float32Array(m * n);
  const p = { transA, transB, m, n, k, alpha: 1, beta: 0, lda: transA ? m : k, ldb: transB ? k : n, ldc: n };
  const seconds = timeMedian(() => native.gemm(p, a, b, c, threads),
    { warmup: 2, minReps: 5, budgetSeconds: 1 });
  return { op: 'gemm', m, n, k, transA, transB, threads, isa: native.cpuInfo().active, gflops: (2 * m * n * k) / seconds / 1e9 };
}
