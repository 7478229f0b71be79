// A run's data-parallel side (mpirun -np N cnn train): which shard this rank trains and
// validates on, identical starting weights, gradients averaged by bucketed all-reduce, one
// agreement per step on a non-finite loss or a stop, and metrics summed over the ranks.
// In a process of its own (a world of one) every method is a no-op or the identity.
import { availableParallelism } from 'node:os';
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Shard } from '../data/distributed-sampler.js';
import type { World } from '../dist/world.js';
import { GradientBuckets, DEFAULT_BUCKET_BYTES } from '../dist/gradient-buckets.js';
import type { FlatStorage } from '../optim/flat-storage.js';
import { convertSyncBatchNorm } from '../dist/sync-batchnorm.js';
import type { ConfusionMatrix, RunningMetrics } from './metrics.js';

export class DataParallel {
  private buckets: GradientBuckets | null = null;
  /** Milliseconds spent waiting for gradient all-reduces since the last take. */
  private waitMs = 0;

  constructor(readonly world: World) {}

  get size(): number {
    return this.world.size;
  }

  /** Rank 0 writes the run folder and prints; the others stay silent unless they fail. */
  get isLeader(): boolean {
    return this.world.rank === 0;
  }

  /** OpenMP threads per rank when --threads is not given: this machine's cores shared by its ranks. */
  defaultThreads(): number | undefined {
    if (this.size === 1 || process.env.CNN_THREADS) return undefined;
    return Math.max(1, Math.floor(availableParallelism() / this.world.localSize));
  }

  /** This rank's share of an epoch; training pads so every rank takes as many steps. */
  shard(pad: boolean): Shard | undefined {
    return this.size > 1 ? { rank: this.world.rank, size: this.size, pad } : undefined;
  }

  /**
   * Every rank starts from rank 0's weights and buffers (after --init/--resume too); gradients
   * are averaged from now on (in place in the optimizer's flat gradient buffer when given), and
   * --sync-bn shares BatchNorm's batch statistics.
   */
  attach(model: Module, trainable: readonly Tensor[], syncBn: boolean, flat: FlatStorage | null = null): void {
    if (this.size === 1) return;
    for (const t of model.stateDict().values()) this.world.broadcast(t.data, 0);
    this.buckets = new GradientBuckets(this.world, trainable, DEFAULT_BUCKET_BYTES, flat);
    if (syncBn) convertSyncBatchNorm(model, this.world);
  }

  /** After backward: every .grad becomes the mean over the ranks. */
  averageGradients(): void {
    if (this.buckets) this.waitMs += this.buckets.finish().waitMs;
  }

  takeWaitMs(): number {
    const ms = this.waitMs;
    this.waitMs = 0;
    return ms;
  }

  /** One all-reduce per step, so all ranks stop at the same step: any non-finite loss, any stop. */
  agree(nonFinite: boolean, stop: boolean): { nonFinite: number; stop: boolean } {
    if (this.size === 1) return { nonFinite: nonFinite ? 1 : 0, stop };
    const flags = Float64Array.of(nonFinite ? 1 : 0, stop ? 1 : 0);
    this.world.allreduceSum(flags);
    return { nonFinite: flags[0], stop: flags[1] > 0 };
  }

  /** Sums the ranks' running loss and accuracy counts, so every rank holds the global figures. */
  reduceMetrics(metrics: RunningMetrics, confusion?: ConfusionMatrix): void {
    if (this.size === 1) return;
    const sums = metrics.sums();
    const k = confusion ? confusion.classes.length : 0;
    const buf = new Float64Array(sums.length + k * k);
    buf.set(sums);
    for (let t = 0; t < k; t++) buf.set(confusion!.counts[t], sums.length + t * k);
    this.world.allreduceSum(buf);
    metrics.setSums(buf.subarray(0, sums.length));
    for (let t = 0; t < k; t++) for (let p = 0; p < k; p++) confusion!.counts[t][p] = buf[sums.length + t * k + p];
  }
}
