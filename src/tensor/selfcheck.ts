// Compares every kernel variant this CPU supports with the scalar references on a small GEMM
// and convolutions (forward and both gradients): the GEMM paths and the depthwise kernel. `cnn doctor` reports it.
import { native, getThreads, type ConvParams } from './native.js';
import { convOutputShape } from './ops.js';
import { Generator } from './random.js';
import { shapeSize } from './tensor.js';

export interface VariantCheck {
  isa: string;
  gemmMaxError: number;
  convMaxError: number;
  ok: boolean;
}

const TOLERANCE = 1e-3;

function randomArray(n: number, g: Generator): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = g.random() * 2 - 1;
  return a;
}

function maxRelativeError(got: Float32Array, want: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i]));
    // NaN must count as a failure, so compare negatively.
    if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : err;
  }
  return worst;
}

function checkGemm(g: Generator, threads: number): number {
  const m = 37, n = 53, k = 71;
  const a = randomArray(k * m, g), b = randomArray(k * n, g), c0 = randomArray(m * n, g);
  const want = c0.slice(), got = c0.slice();
  const p = { transA: true, transB: false, m, n, k, alpha: 1.25, beta: 0.5, lda: m, ldb: n, ldc: n };
  native.gemmRef(p, a, b, want);
  native.gemm(p, a, b, got, threads);
  return maxRelativeError(got, want);
}

/** A grouped convolution (the GEMM paths), a strided 5×5 depthwise one (its own vector kernel),
 * and a stride-1 3×3 one on one thread (the grid path forward and for the input gradient: output
 * rows packed from the padded image, 13 and 7 channels and 11-pixel rows leaving partial register
 * tiles on every ISA). */
const CONV_CHECKS: { p: ConvParams; threads?: number }[] = [
  { p: { n: 3, cIn: 6, h: 9, w: 7, cOut: 10, kh: 3, kw: 3, strideH: 2, strideW: 1, padT: 1, padB: 0, padL: 1, padR: 2, dilH: 1, dilW: 2, groups: 2 } },
  { p: { n: 2, cIn: 5, h: 19, w: 37, cOut: 5, kh: 5, kw: 5, strideH: 2, strideW: 2, padT: 2, padB: 1, padL: 2, padR: 2, dilH: 1, dilW: 1, groups: 5 } },
  { p: { n: 2, cIn: 7, h: 9, w: 11, cOut: 13, kh: 3, kw: 3, strideH: 1, strideW: 1, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 1 }, threads: 1 },
];

function checkConv(g: Generator, threads: number): number {
  return Math.max(...CONV_CHECKS.map((c) => checkConvShape(c.p, g, c.threads ?? threads)));
}

function checkConvShape(p: ConvParams, g: Generator, threads: number): number {
  const xs = p.n * p.cIn * p.h * p.w, ws = p.cOut * (p.cIn / p.groups) * p.kh * p.kw, ys = shapeSize(convOutputShape(p));
  const x = randomArray(xs, g), w = randomArray(ws, g), b = randomArray(p.cOut, g), dy = randomArray(ys, g);
  const pairs: [Float32Array, Float32Array][] = [];
  const y = [new Float32Array(ys), new Float32Array(ys)];
  native.conv2dRefForward(p, x, w, b, y[0]);
  native.conv2dForward(p, x, w, b, y[1], threads);
  pairs.push([y[1], y[0]]);
  const dx = [new Float32Array(xs), new Float32Array(xs)];
  native.conv2dRefBackwardInput(p, dy, w, dx[0]);
  native.conv2dBackwardInput(p, dy, w, dx[1], threads);
  pairs.push([dx[1], dx[0]]);
  const dw = [new Float32Array(ws), new Float32Array(ws)], db = [new Float32Array(p.cOut), new Float32Array(p.cOut)];
  native.conv2dRefBackwardWeight(p, x, dy, dw[0], db[0]);
  native.conv2dBackwardWeight(p, x, dy, dw[1], db[1], threads);
  pairs.push([dw[1], dw[0]], [db[1], db[0]]);
  return Math.max(...pairs.map(([got, want]) => maxRelativeError(got, want)));
}

/** Runs the check on every supported variant, then restores the active one. */
export function checkKernelVariants(threads = getThreads()): VariantCheck[] {
  const info = native.cpuInfo();
  const results: VariantCheck[] = [];
  try {
    for (const isa of info.supported) {
      native.setIsa(isa);
      const g = new Generator(42);
      const gemmMaxError = checkGemm(g, threads);
      const convMaxError = checkConv(g, threads);
      results.push({ isa, gemmMaxError, convMaxError, ok: gemmMaxError <= TOLERANCE && convMaxError <= TOLERANCE });
    }
  } finally {
    native.setIsa(info.active);
  }
  return results;
}
