// Averages gradients over the ranks of a job as backward produces them (DDP's reducer): the
// trainable parameters, in reverse registration order (about the order backward reaches them),
// are packed into buckets of about 25 MB. When backward has added a parameter's gradient into
// its .grad (a post-accumulate hook), a bucket whose parameters are all in starts a non-blocking
// all-reduce at once, while backward goes on. finish() waits for every bucket, scales by 1/N and
// leaves the mean in each .grad. With an optimizer's flat storage a bucket is a range of the flat
// gradient buffer itself (DDP's gradient_as_bucket_view): the all-reduce runs in place, no copies.
// What is all-reduced is .grad as accumulated so far, the same on every rank after the previous
// backward's mean, so accumulated steps average exactly too.
// Buckets start strictly in index order, so every rank issues the same collectives in the same
// order even if hooks fire in a different order.
import { Tensor, type RemovableHandle } from '../tensor/tensor.js';
import type { FlatStorage } from '../optim/flat-storage.js';
import type { World } from './world.js';

export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

interface Bucket {
  params: Tensor[];
  offsets: number[];
  /** The bucket's own buffer, or a view of the flat gradient buffer (inPlace). */
  buffer: Float32Array;
  inPlace: boolean;
  /** Parameters whose gradient has not arrived this step. */
  missing: number;
  arrived: Set<Tensor>;
  handle: number | null;
}

export interface ReduceTiming {
  /** Milliseconds this step spent blocked in finish() waiting for all-reduces. */
  waitMs: number;
}

function sameMemory(a: Float32Array, b: Float32Array): boolean {
  return a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.length === b.length;
}

export class GradientBuckets {
  readonly buckets: Bucket[] = [];
  private readonly where = new Map<Tensor, Bucket>();
  private readonly hooks: RemovableHandle[] = [];
  private nextToStart = 0;

  /** flat: the optimizer's flat storage holding params, whose gradient buffer the buckets become. */
  constructor(private readonly world: World, params: readonly Tensor[], bucketBytes = DEFAULT_BUCKET_BYTES, private readonly flat: FlatStorage | null = null) {
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
      // A bucket over the flat buffer is one range: the next parameter must end where it begins.
      const apart = current.length > 0 && this.viewable(current[current.length - 1]) !== this.viewable(p, current[current.length - 1]);
      if ((bytes > 0 && bytes + 4 * p.size > bucketBytes) || apart) close();
      current.push(p);
      bytes += 4 * p.size;
    }
    close();
    for (const b of this.buckets) {
      for (const p of b.params) {
        this.where.set(p, b);
        this.hooks.push(p.registerPostAccumulateGradHook(() => this.arrived(p)));
      }
    }
  }

  /** Whether p's gradient lives in the flat buffer (and, given the parameter after it, right before it). */
  private viewable(p: Tensor, after?: Tensor): boolean {
    const at = this.flat?.offsetOf(p);
    if (at === undefined) return false;
    return after === undefined || at + p.size === this.flat!.offsetOf(after);
  }

  private makeBucket(params: Tensor[]): Bucket {
    const offsets: number[] = [];
    let n = 0;
    for (const p of params) {
      offsets.push(n);
      n += p.size;
    }
    const last = params[params.length - 1];
    const inPlace = params.every((p) => this.viewable(p));
    // Reverse order: the last parameter of the bucket comes first in the flat buffer.
    const buffer = inPlace ? this.flat!.grad.subarray(this.flat!.offsetOf(last)!, this.flat!.offsetOf(last)! + n) : new Float32Array(n);
    if (inPlace) params.forEach((p, i) => { offsets[i] = this.flat!.offsetOf(p)! - this.flat!.offsetOf(last)!; });
    return { params, offsets, buffer, inPlace, missing: params.length, arrived: new Set(), handle: null };
  }

  private slot(b: Bucket, k: number): Float32Array {
    return b.buffer.subarray(b.offsets[k], b.offsets[k] + b.params[k].size);
  }

  private arrived(p: Tensor): void {
    const bucket = this.where.get(p)!;
    if (bucket.handle !== null) throw new Error('a gradient arrived for a bucket already being all-reduced: one backward() per step with data-parallel training');
    if (bucket.arrived.has(p)) return;
    bucket.arrived.add(p);
    const k = bucket.params.indexOf(p);
    const slot = this.slot(bucket, k);
    if (!sameMemory(p.grad!.data, slot)) slot.set(p.grad!.data);
    bucket.missing--;
    this.startReady(false);
  }

  /** Starts the buckets that are full, in index order (all of them when flush). */
  private startReady(flush: boolean): void {
    while (this.nextToStart < this.buckets.length) {
      const b = this.buckets[this.nextToStart];
      if (b.missing > 0 && !flush) break;
      // A parameter that got no gradient in this backward offers what its .grad holds (zeros without one).
      b.params.forEach((p, k) => {
        if (b.arrived.has(p)) return;
        const slot = this.slot(b, k);
        if (!p.grad) slot.fill(0);
        else if (!sameMemory(p.grad.data, slot)) slot.set(p.grad.data);
      });
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
        const mean = this.slot(b, k);
        // A parameter that got no gradient here may have one on another rank.
        if (p.grad && sameMemory(p.grad.data, mean)) return;
        if (p.grad) p.grad.data.set(mean);
        else p.grad = new Tensor(b.inPlace ? mean : mean.slice(), p.shape);
      });
      b.missing = b.params.length;
      b.arrived.clear();
      b.handle = null;
    }
    this.nextToStart = 0;
    return { waitMs };
  }

  remove(): void {
    for (const h of this.hooks) h.remove();
  }
}
