// Weights re-laid out for one forward path (Winograd's transform, the dense map of whole images,
// the GEMM's packing), for passes that record no gradient (eval). Each is cached per weight storage
// (so a reshaped view of the same weights finds it) and rebuilt only when weights may have changed
// (weights-generation, as eval's BatchNorm folding), into the same storage, so repeated eval steps
// neither rebuild nor allocate; the native side says where the path is taken, and only there is
// anything built at all.
import type { Tensor } from './tensor.js';
import type { ConvParams } from './native.js';
import { weightsGeneration } from './weights-generation.js';

interface Derived {
  generation: number;
  /** p's fields but the batch: a dense map for 1×2 maps has the length of one for 2×1 maps, not its values. */
  shape: string;
  data: Float32Array;
}

/** p's fields but n (no re-layout depends on the batch, whose last one in an epoch is often smaller). */
function shapeKey<P>(p: P): string {
  return JSON.stringify(p, (k, v: unknown) => (k === 'n' ? undefined : v));
}

export interface DerivedWeights<P> {
  /** w re-laid out for a forward pass of p on `threads` threads, or undefined where that pass would not take the path. */
  get(p: P, w: Tensor, threads: number): Float32Array | undefined;
  /** How many times weights were built in this process (tests check that eval reuses them). */
  builds(): number;
}

/** A cache over `floats` (the length the path wants for p, 0 where it is not taken) and `build` (fills it from w). */
export function derivedWeights<P = ConvParams>(floats: (p: P, threads: number) => number,
  build: (p: P, w: Float32Array, out: Float32Array, threads: number) => void): DerivedWeights<P> {
  const cache = new WeakMap<Float32Array, Derived>();
  let builds = 0;
  return {
    get(p, w, threads) {
      const length = floats(p, threads);
      if (length === 0) return undefined;
      const cached = cache.get(w.data), shape = shapeKey(p);
      if (cached && cached.generation === weightsGeneration() && cached.shape === shape && cached.data.length === length) return cached.data;
      const data = cached && cached.data.length === length ? cached.data : new Float32Array(length);
      build(p, w.data, data, threads);
      builds++;
      cache.set(w.data, { generation: weightsGeneration(), shape, data });
      return data;
    },
    builds: () => builds,
  };
}
