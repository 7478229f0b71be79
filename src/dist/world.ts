// The ranks of a data-parallel job. A process not started by mpirun is a world of one, whose
// collectives are no-ops; under mpirun the MPI bindings join the job (MPI_Init_thread, FUNNELED).
import { native, type NativeAddon } from '../tensor/native.js';
import { launchFacts } from './launch.js';

export interface World {
  readonly rank: number;
  readonly size: number;
  readonly localRank: number;
  readonly localSize: number;
  /** In place: the element-wise sum over all ranks. */
  allreduceSum(buf: Float32Array | Float64Array): void;
  /** Starts an in-place sum; do not touch buf until wait(handle) returns or test(handle) is true. */
  iallreduceSum(buf: Float32Array): number;
  test(handle: number): boolean;
  wait(handle: number): void;
  /** In place: every rank's buf becomes root's. */
  broadcast(buf: Float32Array | Float64Array, root?: number): void;
  barrier(): void;
  /** Ends every rank of the job with this exit code. */
  abort(code: number): never;
  finalize(): void;
}

/** Started under mpirun, but the addon was built without MPI. */
export class NoMpiSupportError extends Error {}

/** What `cnn doctor` says about MPI. */
export interface MpiFacts {
  available: boolean;
  version?: string;
  /** The MPI_THREAD_* level the library provides when asked for FUNNELED. */
  threadLevel?: string;
  error?: string;
}

/** Starts MPI once (as a singleton outside mpirun) to learn its thread level, then finalizes it. */
export function probeMpi(): MpiFacts {
  const info = native.mpiInfo();
  if (!info.available || !native.mpiInit) return { available: false };
  try {
    const w = info.initialized ? info : native.mpiInit();
    if (!info.initialized) native.mpiFinalize!();
    return { available: true, version: info.version, threadLevel: w.threadLevel };
  } catch (err) {
    return { available: true, version: info.version, error: (err as Error).message };
  }
}

/** One process: sums and broadcasts leave the buffer as it is. */
export const soloWorld: World = {
  rank: 0, size: 1, localRank: 0, localSize: 1,
  allreduceSum: () => undefined,
  iallreduceSum: () => 0,
  test: () => true,
  wait: () => undefined,
  broadcast: () => undefined,
  barrier: () => undefined,
  abort: (code: number): never => process.exit(code),
  finalize: () => undefined,
};

let joined: World | null = null;

/** The world this process belongs to: soloWorld unless launched by mpirun with more than one rank. */
export function joinWorld(env: NodeJS.ProcessEnv = process.env, addon: Pick<NativeAddon, Extract<keyof NativeAddon, `mpi${string}`>> = native): World {
  if (joined) return joined;
  const launch = launchFacts(env);
  if (launch.size <= 1) return soloWorld;
  if (!addon.mpiInit) {
    throw new NoMpiSupportError(`started by mpirun with ${launch.size} ranks, but this build of cnn has no MPI support: install Open MPI (Debian: apt-get install openmpi-bin libopenmpi-dev) and rebuild the addon (npm run build:native)`);
  }
  const n = addon;
  const w = addon.mpiInit();
  joined = {
    rank: w.rank!, size: w.size!, localRank: w.localRank!, localSize: w.localSize!,
    allreduceSum: (buf) => n.mpiAllreduceSum!(buf),
    iallreduceSum: (buf) => n.mpiIallreduceSum!(buf),
    test: (h) => n.mpiTest!(h),
    wait: (h) => n.mpiWait!(h),
    broadcast: (buf, root = 0) => n.mpiBroadcast!(buf, root),
    barrier: () => n.mpiBarrier!(),
    abort: (code) => n.mpiAbort!(code),
    finalize: () => n.mpiFinalize!(),
  };
  return joined;
}
