// GFLOP/s per layer kind against the machine's measured FMA peak: where the convolution and
// GEMM kernels stand, layer by layer, on one thread and on all of them.
import { native, getThreads, type ConvParams, type ConvPass, type ConvAlgoName } from '../tensor/native.js';
import { Generator } from '../tensor/random.js';
import { timeReps } from './timing.js';

import { OP_KINDS, type OpKind } from './op-kinds.js';

export { OP_KINDS, type OpKind };

export interface OpCase {
  kind: OpKind;
  /** The convolution (N = the bench's batch); for gemm, m = cOut, n = h·w, k = cIn. */
  conv: ConvParams;
  passes: readonly ConvPass[];
}

export interface OpResult {
  bench: 'ops';
  kind: OpKind;
  pass: ConvPass;
  /** [N, Cin, H, W] → Cout, kernel, stride (gemm: [m, n, k]). */
  shape: number[];
  threads: number;
  isa: string;
  algo: ConvAlgoName | 'gemm';
  gflops: number;
  /** The FMA peak on as many threads in the active ISA's widest registers: the best measured
   * so far in this run (it is measured again before every case, as the load may have eased). */
  peak_gflops: number;
  fraction_of_peak: number;
}

const ALL_PASSES: readonly ConvPass[] = ['forward', 'backwardInput', 'backwardWeight'];

function conv(n: number, cIn: number, cOut: number, hw: number, k: number, stride: number, groups = 1): ConvParams {
  const pad = (k - 1) >> 1;
  return { n, cIn, h: hw, w: hw, cOut, kh: k, kw: k, strideH: stride, strideW: stride, padT: pad, padB: pad, padL: pad, padR: pad, dilH: 1, dilW: 1, groups };
}

/** ResNet's 3×3 stages at ImageNet sizes, a bottleneck's 1×1, MobileNet/ConvNeXt depthwise layers (MobileNetV2's
 * 14×14 one too, forward and input gradient), a square GEMM. */
export function opCases(batch: number): OpCase[] {
  const dw = (c: number, hw: number, k: number, stride: number) => conv(batch, c, c, hw, k, stride, c);
  return [
    ...[[64, 56], [128, 28], [256, 14], [512, 7]].map(([c, hw]) => ({ kind: 'conv3x3' as const, conv: conv(batch, c, c, hw, 3, 1), passes: ALL_PASSES })),
    { kind: 'conv1x1', conv: conv(batch, 256, 64, 56, 1, 1), passes: ALL_PASSES },
    { kind: 'conv1x1', conv: conv(batch, 128, 512, 28, 1, 1), passes: ['forward'] },
    { kind: 'depthwise', conv: dw(144, 56, 3, 1), passes: ALL_PASSES },
    { kind: 'depthwise', conv: dw(144, 56, 3, 2), passes: ['forward'] },
    { kind: 'depthwise', conv: dw(240, 28, 5, 1), passes: ['forward'] },
    { kind: 'depthwise', conv: dw(96, 56, 7, 1), passes: ['forward'] },
    { kind: 'depthwise', conv: dw(576, 14, 3, 1), passes: ['forward', 'backwardInput'] },
    { kind: 'gemm', conv: conv(1, 1024, 1024, 32, 1, 1), passes: ['forward'] },
  ];
}

function outSize(p: ConvParams): [number, number] {
  return [Math.floor((p.h + p.padT + p.padB - p.dilH * (p.kh - 1) - 1) / p.strideH) + 1,
    Math.floor((p.w + p.padL + p.padR - p.dilW * (p.kw - 1) - 1) / p.strideW) + 1];
}

/** Multiply-adds × 2 of one pass (the three passes do the same number). */
export function convFlops(p: ConvParams): number {
  const [oh, ow] = outSize(p);
  return 2 * p.n * p.cOut * oh * ow * (p.cIn / p.groups) * p.kh * p.kw;
}

function randomArray(len: number, g: Generator): Float32Array {
  const a = new Float32Array(len);
  for (let i = 0; i < len; i++) a[i] = g.random() - 0.5;
  return a;
}

/** The fastest call's seconds: the FMA peak beside it is a best too, and on a shared machine the
 * fastest call is the one least disturbed by neighbours. */
function timeBest(fn: () => void, budgetSeconds: number): number {
  return Math.min(...timeReps(fn, { warmup: 2, minReps: 3, budgetSeconds }));
}

/** Seconds per call of one pass, the path it took and its flops. */
function timeCase(c: OpCase, pass: ConvPass, threads: number, budgetSeconds: number): { seconds: number; algo: OpResult['algo']; flops: number } {
  const g = new Generator(1);
  const p = c.conv;
  if (c.kind === 'gemm') {
    const m = p.cOut, n = p.h * p.w, k = p.cIn;
    const a = randomArray(m * k, g), b = randomArray(k * n, g), out = new Float32Array(m * n);
    const gp = { transA: false, transB: false, m, n, k, alpha: 1, beta: 0, lda: k, ldb: n, ldc: n };
    return { seconds: timeBest(() => native.gemm(gp, a, b, out, threads), budgetSeconds), algo: 'gemm', flops: 2 * m * n * k };
  }
  const [oh, ow] = outSize(p);
  const x = randomArray(p.n * p.cIn * p.h * p.w, g), w = randomArray(p.cOut * (p.cIn / p.groups) * p.kh * p.kw, g);
  const dy = randomArray(p.n * p.cOut * oh * ow, g), bias = randomArray(p.cOut, g);
  // Outputs in their own buffers, so repetitions never feed on each other's results.
  const out = new Float32Array(Math.max(dy.length, x.length, w.length)), db = new Float32Array(p.cOut);
  const run = {
    forward: () => native.conv2dForward(p, x, w, bias, out.subarray(0, dy.length), threads),
    backwardInput: () => native.conv2dBackwardInput(p, dy, w, out.subarray(0, x.length), threads),
    backwardWeight: () => native.conv2dBackwardWeight(p, x, dy, out.subarray(0, w.length), db, threads),
  }[pass];
  return { seconds: timeBest(run, budgetSeconds), algo: native.convAlgo(p, pass, threads), flops: convFlops(p) };
}

export interface BenchOpsOptions {
  batch?: number;
  /** Thread counts to measure at (default: 1 and the configured count). */
  threads?: number[];
  kinds?: readonly OpKind[];
  /** Timing budget per case and pass. */
  budgetSeconds?: number;
  /** Passes over every case and thread count, one after another; each row keeps its fastest. */
  rounds?: number;
}

/** Every case's passes at each thread count, each beside the FMA peak measured at that count.
 * With several rounds every row is measured once a round and reported, its fastest call of any
 * round, as the last round reaches it: on a shared machine a slow minute then costs a row one
 * round, not its figure (a 3×3 weight gradient read 44% of peak in one pass and 84% alone). */
export function benchOps(opts: BenchOpsOptions = {}, onResult: (r: OpResult) => void = () => {}): OpResult[] {
  const batch = opts.batch ?? 8, budgetSeconds = opts.budgetSeconds ?? 0.5, rounds = opts.rounds ?? 1;
  const threadCounts = opts.threads ?? [...new Set([1, getThreads()])];
  const kinds = new Set(opts.kinds ?? OP_KINDS);
  const cases = opCases(batch).filter((oc) => kinds.has(oc.kind));
  const isa = native.cpuInfo().active;
  const fastest = new Map<string, ReturnType<typeof timeCase>>();
  const peaks = new Map<number, number>();
  const results: OpResult[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const threads of threadCounts) {
      for (const [index, c] of cases.entries()) {
        peaks.set(threads, Math.max(peaks.get(threads) ?? 0, native.fmaPeak(isa, threads)));
        for (const pass of c.passes) {
          const key = `${threads} ${index} ${pass}`, timed = timeCase(c, pass, threads, budgetSeconds);
          if (timed.seconds < (fastest.get(key)?.seconds ?? Infinity)) fastest.set(key, timed);
          if (round < rounds) continue;
          const { seconds, algo, flops } = fastest.get(key)!, peak = peaks.get(threads)!, p = c.conv;
          const shape = c.kind === 'gemm' ? [p.cOut, p.h * p.w, p.cIn] : [p.n, p.cIn, p.h, p.w, p.cOut, p.kh, p.strideH];
          const gflops = flops / seconds / 1e9;
          const r: OpResult = { bench: 'ops', kind: c.kind, pass, shape, threads, isa, algo, gflops, peak_gflops: peak, fraction_of_peak: gflops / peak };
          results.push(r);
          onResult(r);
        }
      }
    }
  }
  return results;
}
