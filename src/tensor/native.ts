// Loads the C++ addon once and types its bindings. Every binding checks its arguments and
// throws TypeError/RangeError with a message; nothing here repeats those checks.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';

export interface ConvParams {
  n: number; cIn: number; h: number; w: number;
  cOut: number; kh: number; kw: number;
  strideH: number; strideW: number;
  padT: number; padB: number; padL: number; padR: number;
  dilH: number; dilW: number; groups: number;
}

export interface CpuInfo {
  model: string;
  features: string[];
  supported: string[];
  best: string;
  active: string;
}

export interface NativeAddon {
  cpuInfo(): CpuInfo;
  setIsa(name: string): void;
  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    A: Float32Array, lda: number, B: Float32Array, ldb: number, beta: number,
    C: Float32Array, ldc: number, threads: number): void;
  gemmRef(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    A: Float32Array, lda: number, B: Float32Array, ldb: number, beta: number,
    C: Float32Array, ldc: number): void;
  conv2dForward(p: ConvParams, x: Float32Array, w: Float32Array, b: Float32Array | null,
    y: Float32Array, threads: number): void;
  conv2dBackwardInput(p: ConvParams, dy: Float32Array, w: Float32Array, dx: Float32Array,
    threads: number): void;
  conv2dBackwardWeight(p: ConvParams, x: Float32Array, dy: Float32Array, dw: Float32Array,
    db: Float32Array | null, threads: number): void;
  conv2dRefForward(p: ConvParams, x: Float32Array, w: Float32Array, b: Float32Array | null,
    y: Float32Array): void;
  conv2dRefBackwardInput(p: ConvParams, dy: Float32Array, w: Float32Array, dx: Float32Array): void;
  conv2dRefBackwardWeight(p: ConvParams, x: Float32Array, dy: Float32Array, dw: Float32Array,
    db: Float32Array | null): void;
  /** op: 0 add, 1 sub, 2 mul, 3 div; shapes broadcast as in PyTorch. */
  binary(op: number, a: Float32Array, aShape: readonly number[], b: Float32Array,
    bShape: readonly number[], out: Float32Array, outShape: readonly number[], threads: number): void;
  sumToShape(x: Float32Array, shape: readonly number[], out: Float32Array, target: readonly number[]): void;
  reluForward(x: Float32Array, y: Float32Array, threads: number): void;
  reluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, threads: number): void;
  axpy(alpha: number, x: Float32Array, y: Float32Array, threads: number): void;
  scale(alpha: number, x: Float32Array, y: Float32Array, threads: number): void;
  sum(x: Float32Array): number;
  /**
   * Augments images[indices[k]] (uint8 CHW of imageShape) with seeds[k] through ops (the plain
   * descriptions of src/data/transforms.ts) into out, float32 N × outShape.
   */
  augmentBatch(images: Uint8Array, imageShape: readonly number[], indices: Int32Array, seeds: Uint32Array,
    ops: readonly object[], out: Float32Array, threads: number): void;
  /** The same on the libuv pool; argument errors throw synchronously. Do not touch the arrays until it settles. */
  augmentBatchAsync(images: Uint8Array, imageShape: readonly number[], indices: Int32Array, seeds: Uint32Array,
    ops: readonly object[], out: Float32Array, threads: number): Promise<void>;
  /** [channels, height, width] that ops make of imageShape; RangeError when they cannot apply. */
  augmentOutputShape(imageShape: readonly number[], ops: readonly object[]): [number, number, number];
}

const require = createRequire(import.meta.url);

function load(): NativeAddon {
  try {
    return require('../../../build/Release/cnn.node') as NativeAddon;
  } catch (err) {
    throw new Error(`cannot load the native addon build/Release/cnn.node (run \`npm install\` to build it): ${(err as Error).message}`);
  }
}

export const native: NativeAddon = load();

// CNN_ISA forces a kernel variant (scalar|avx2|avx512|neon); one the CPU lacks is an error.
if (process.env.CNN_ISA) native.setIsa(process.env.CNN_ISA);

function threadsFromEnv(): number {
  const env = process.env.CNN_THREADS;
  if (env === undefined || env === '') return availableParallelism();
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new RangeError(`CNN_THREADS must be an integer between 1 and 1024 but is '${env}'`);
  }
  return n;
}

let threadCount = threadsFromEnv();

/** OpenMP threads passed into every kernel call (OpenMP settings are per OS thread). */
export function getThreads(): number {
  return threadCount;
}

export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new RangeError(`Expected an integer between 1 and 1024 for threads but received ${n}`);
  }
  threadCount = n;
}
