// Storage for tensors. Kernel outputs that the kernel overwrites in full come from emptyFloat32:
// `new Float32Array(n)` zero-fills, which for a 16 MB activation costs about as much as the ReLU
// that writes it, so large ones come uninitialized from Buffer.allocUnsafeSlow (their own
// ArrayBuffer, 8-byte aligned at 0). Inside a training step that recycles (StepBuffers), storage
// comes from the buffers earlier steps released, so a steady-state step allocates nothing.
const SMALL = 16 * 1024;

// CNN_POISON_EMPTY=1 turns poisoning on for a whole run (npm test with it set must still pass).
let poison = process.env.CNN_POISON_EMPTY === '1';

/** Tests: fill every uninitialized output with NaN, so a kernel that leaves a gap shows up. */
export function setPoisonEmpty(on: boolean): void {
  poison = on;
}

type AllocationWatch = (bytes: number, allocate: () => Float32Array) => Float32Array;
let watch: AllocationWatch | null = null;

/** --profile: times and counts every storage allocation (null: stop). */
export function setAllocationWatch(w: AllocationWatch | null): void {
  watch = w;
}

let allocations = 0, allocatedBytes = 0;

/** Float32 tensor storages allocated so far in this process (pool reuse does not count), and their bytes. */
export function storageAllocations(): { count: number; bytes: number } {
  return { count: allocations, bytes: allocatedBytes };
}

/**
 * The buffers of training steps and of forward passes (eval, validation, predict): what a step
 * takes is lent from free lists keyed by length, the backward walk gives back gradients it has
 * consumed, and end() gives back everything else the step took (its activations, the logits), for
 * the next step to take again. Nothing a step took may be used after end(): the trainer and the
 * evaluators keep only numbers, and .grad storage is the parameters' own.
 */
export class StepBuffers {
  private readonly free = new Map<number, Float32Array[]>();
  /** Each buffer lent out since begin(), with the order it was lent in. */
  private readonly lent = new Map<Float32Array, number>();
  /** Per length, the last step that took one. */
  private readonly lastTaken = new Map<number, number>();
  private steps = 0;
  private lentCount = 0;

  /** The step begins: storage comes from here until end(). */
  begin(): void {
    if (active) throw new Error('a training step is already recycling buffers');
    active = this;
    this.steps++;
  }

  /**
   * The step ended: what it took is free again. Lengths that neither it nor the step before took
   * are dropped, so a batch of another size (an epoch's last) does not keep its buffers beside
   * the full batches' for the rest of the run, and the next epoch's full batches find theirs.
   */
  end(): void {
    if (active === this) active = null;
    for (const buf of this.lent.keys()) this.put(buf);
    this.lent.clear();
    for (const n of this.free.keys()) {
      if (this.steps - (this.lastTaken.get(n) ?? 0) >= 2) {
        this.free.delete(n);
        this.lastTaken.delete(n);
      }
    }
  }

  /**
   * fn as one step (a forward pass, say): what it takes is lent and given back when it returns or
   * throws, so fn copies out what it keeps (numbers, predictions) and returns nothing lent. Inside
   * a step already running, fn takes from that step's buffers instead.
   */
  step<T>(fn: () => T): T {
    if (active) return fn();
    this.begin();
    try {
      return fn();
    } finally {
      this.end();
    }
  }

  take(n: number): Float32Array {
    this.lastTaken.set(n, this.steps);
    const buf = this.free.get(n)?.pop() ?? allocate(n);
    if (poison) buf.fill(NaN);
    this.lent.set(buf, this.lentCount++);
    return buf;
  }

  /** A mark: buffers lent after it are releasable() (the backward walk's own gradients). */
  mark(): number {
    return this.lentCount;
  }

  /** buf was lent after `since` and is still out. */
  releasable(buf: Float32Array, since: number): boolean {
    const order = this.lent.get(buf);
    return order !== undefined && order >= since;
  }

  release(buf: Float32Array): void {
    if (this.lent.delete(buf)) this.put(buf);
  }

  private put(buf: Float32Array): void {
    let list = this.free.get(buf.length);
    if (!list) this.free.set(buf.length, (list = []));
    list.push(buf);
  }
}

let active: StepBuffers | null = null;

const kept = new WeakMap<object, StepBuffers>();

/** The StepBuffers kept for owner (a run's training steps, a model's predictions) while it lives. */
export function stepBuffersFor(owner: object): StepBuffers {
  let b = kept.get(owner);
  if (!b) kept.set(owner, (b = new StepBuffers()));
  return b;
}

/** The StepBuffers of the step running now, or null outside a recycling step. */
export function recyclingBuffers(): StepBuffers | null {
  return active;
}

/** A Float32Array of n elements whose contents are unspecified; the caller writes all of them. */
export function emptyFloat32(n: number): Float32Array {
  if (active) return active.take(n);
  const buf = allocate(n);
  if (poison) buf.fill(NaN);
  return buf;
}

/** A Float32Array of n zeros (for kernels that accumulate into their output). */
export function zeroFloat32(n: number): Float32Array {
  return active ? active.take(n).fill(0) : allocate(n).fill(0);
}

function allocate(n: number): Float32Array {
  allocations++;
  allocatedBytes += n * 4;
  const make = () => (n < SMALL ? new Float32Array(n) : new Float32Array(Buffer.allocUnsafeSlow(n * 4).buffer, 0, n));
  return watch ? watch(n * 4, make) : make();
}
