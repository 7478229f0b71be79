// Averages gradients over the ranks of a job as backward produces them (DDP's reducer): the
// trainable parameters, in reverse registration order (about the order backward reaches them),
// are packed into buckets of about 25 MB. A parameter's tensor hook copies its gradient into
// its bucket; a full bucket starts a non-blocking all-reduce at once, while backward goes on.
// finish() waits for every bucket, scales by 1/N and writes the mean into each .grad.
// Buckets start strictly in index order, so every rank issues the same collectives in the same
// order even if hooks fire in a different order.
import { Tensor, type RemovableHandle } from '../tensor/tensor.js';
import type { World } from './world.js';

export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

interface Bucket {
  params: Tensor[];
  offsets: number[];
  buffer: Float32Array;
  /** Parameters whose gradient has not arrived this step. */
  missing: number;
  handle: number | null;
}

export interface ReduceTiming {
  /** Milliseconds this step spent blocked in finish() waiting for all-reduces. */
  waitMs: number;
}

export class GradientBuckets {
  readonly buckets: Bucket[] = [];
  private readonly where = new Map<Tensor, { bucket: Bucket; offset: number }>();
  private readonly hooks: RemovableHandle[] = [];
  private nextToStart = 0;

  constructor(private readonly world: World, params: readonly Tensor[], bucketBytes = DEFAULT_BUCKET_BYTES) {
    if (!(bucketBytes >= 4)) throw new RangeError(`bucketBytes must be at least 4 but is ${bucketBytes}`);
    let current: Tensor[] = [];
    let bytes = 0;
    const close = () => {
      if (current.length) this.buckets.push(this.makeBucket(current));
      current = [];
      bytes = 0;
    };
    for (const p of [...params].reverse()) {
      if (!p.requiresGrad) continue;
      if (bytes > 0 && bytes + 4 * p.size > bucketBytes) close();
      current.push(p);
      bytes += 4 * p.size;
    }
    close();
    for (const b of this.buckets) {
      b.params.forEach((p, i) => {
        this.where.set(p, { bucket: b, offset: b.offsets[i] });
        this.hooks.push(p.registerHook((g) => this.arrived(p, g)));
      });
    }
  }

  private makeBucket(params: Tensor[]): Bucket {
    const offsets: number[] = [];
    let n = 0;
    for (const p of params) {
      offsets.push(n);
      n += p.size;
    }
    return { params, offsets, buffer: new Float32Array(n), missing: params.length, handle: null };
  }

  private arrived(p: Tensor, grad: Tensor): void {
    const { bucket, offset } = this.where.get(p)!;
    if (bucket.handle !== null) throw new Error('a gradient arrived for a bucket already being all-reduced: one backward() per step with data-parallel training');
    const dst = bucket.buffer.subarray(offset, offset + p.size);
    for (let i = 0; i < dst.length; i++) dst[i] += grad.data[i];
    bucket.missing--;
    this.startReady(false);
  }

  /** Starts the buckets that are full, in index order (all of them when flush). */
  private startReady(flush: boolean): void {
    while (this.nextToStart < this.buckets.length) {
      const b = this.buckets[this.nextToStart];
      if (b.missing > 0 && !flush) break;
      b.handle = this.world.iallreduceSum(b.buffer);
      this.nextToStart++;
    }
    // MPI moves a non-blocking collective forward only inside MPI calls: poke the ones in flight.
    for (let i = 0; i < this.nextToStart; i++) {
      const b = this.buckets[i];
      if (b.handle !== null && b.handle >= 0 && this.world.test(b.handle)) b.handle = -1;
    }
  }

  /** Waits for every bucket, then each trainable parameter's .grad is the mean over ranks. */
  finish(): ReduceTiming {
    this.startReady(true);
    const t0 = performance.now();
    for (const b of this.buckets) if (b.handle !== null && b.handle >= 0) this.world.wait(b.handle);
    const waitMs = performance.now() - t0;
    const scale = 1 / this.world.size;
    for (const b of this.buckets) {
      const { buffer } = b;
      for (let i = 0; i < buffer.length; i++) buffer[i] *= scale;
      b.params.forEach((p, k) => {
        const mean = buffer.subarray(b.offsets[k], b.offsets[k] + p.size);
        // A parameter that got no gradient here may have one on another rank.
        if (p.grad) p.grad.data.set(mean);
        else p.grad = new Tensor(mean.slice(), p.shape);
      });
      buffer.fill(0);
      b.missing = b.params.length;
      b.handle = null;
    }
    this.nextToStart = 0;
    return { waitMs };
  }

  remove(): void {
    for (const h of this.hooks) h.remove();
  }
}
