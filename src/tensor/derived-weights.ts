// Convolution weights re-laid out for one forward path (Winograd's transform, the dense map of
// whole images), for passes that record no gradient (eval). Each is cached per weight tensor and
// rebuilt only when weights may have changed (weights-generation, as eval's BatchNorm folding), into
// the same storage, so repeated eval steps neither rebuild nor allocate; the native shape choice
// says where the path is taken, and only there is anything built at all.
import type { Tensor } from './tensor.js';
import type { ConvParams } from './native.js';
import { weightsGeneration } from './weights-generation.js';

interface Derived {
  generation: number;
  /** The weights' storage it was made from (a tensor whose data is replaced rebuilds). */
  source: Float32Array;
  data: Float32Array;
}

export interface DerivedWeights {
  /** w re-laid out for a forward pass of p on `threads` threads, or undefined where that pass would not take the path. */
  get(p: ConvParams, w: Tensor, threads: number): Float32Array | undefined;
  /** How many times weights were built in this process (tests check that eval reuses them). */
  builds(): number;
}

/** A cache over `floats` (the length the path wants for p, 0 where it is not taken) and `build` (fills it from w). */
export function derivedWeights(floats: (p: ConvParams, threads: number) => number,
  build: (p: ConvParams, w: Float32Array, out: Float32Array, threads: number) => void): DerivedWeights {
  const cache = new WeakMap<Tensor, Derived>();
  let builds = 0;
  return {
    get(p, w, threads) {
      const length = floats(p, threads);
      if (length === 0) return undefined;
      const cached = cache.get(w);
      if (cached && cached.generation === weightsGeneration() && cached.source === w.data && cached.data.length === length) return cached.data;
      const data = cached && cached.data.length === length ? cached.data : new Float32Array(length);
      build(p, w.data, data, threads);
      builds++;
      cache.set(w, { generation: weightsGeneration(), source: w.data, data });
      return data;
    },
    builds: () => builds,
  };
}
