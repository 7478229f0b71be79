// Tensor: float32 storage, a shape, and a place on the autograd tape. An op's output records
// a GradNode (its inputs and a backward function); backward() walks the tape in reverse.
import * as ops from './ops.js';
import { weightsChanged } from './weights-generation.js';
import { defaultGenerator, type Generator } from './random.js';
import { activeProfiler } from './profile.js';
import { recyclingBuffers, emptyFloat32, type StepBuffers } from './storage.js';

export type Shape = readonly number[];

export interface GradNode {
  /** The op's name, for error messages. */
  readonly name: string;
  readonly inputs: readonly Tensor[];
  /** Gradients of the inputs from the output's gradient; null where an input needs none. */
  backward(grad: Tensor): (Tensor | null)[];
  /** --profile: the layer whose forward recorded this node. */
  layer?: object;
}

export type TensorHook = (grad: Tensor) => Tensor | void;

export interface RemovableHandle {
  remove(): void;
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording any op, as torch.no_grad(). */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`invalid shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Whether two shapes are equal (without formatting them, on paths every eval call takes). */
export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export class Tensor {
  readonly data: Float32Array;
  readonly shape: Shape;
  requiresGrad: boolean;
  grad: Tensor | null = null;
  gradFn: GradNode | null = null;
  private retainsGrad = false;
  private hooks: TensorHook[] = [];
  private postAccumulateHooks: ((leaf: Tensor) => void)[] = [];
  /** A leaf's gradient storage, kept when zeroGrad drops .grad, for the next recycling step's gradient. */
  private gradStorage: Float32Array | null = null;
  /** gradStorage is a view of an optimizer's flat gradient buffer: every gradient goes there. */
  private gradStorageFixed = false;
  /** The backward walk that lent gradStorage to a kernel as its output (gradientTarget) and has not accepted it yet, else -1. */
  private gradStorageLentIn = -1;

  constructor(data: Float32Array, shape: Shape, requiresGrad = false) {
    const n = shapeSize(shape);
    if (data.length !== n) {
      throw new RangeError(`shape ${formatShape(shape)} needs ${n} elements but the data has ${data.length}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.requiresGrad = requiresGrad;
  }

  // ---- factories ----

  static from(data: ArrayLike<number>, shape?: Shape, requiresGrad = false): Tensor {
    const arr = data instanceof Float32Array ? data : Float32Array.from(data);
    return new Tensor(arr, shape ?? [arr.length], requiresGrad);
  }

  static scalar(value: number, requiresGrad = false): Tensor {
    return new Tensor(Float32Array.of(value), [], requiresGrad);
  }

  static zeros(shape: Shape, requiresGrad = false): Tensor {
    return new Tensor(new Float32Array(shapeSize(shape)), shape, requiresGrad);
  }

  static ones(shape: Shape, requiresGrad = false): Tensor {
    return Tensor.full(shape, 1, requiresGrad);
  }

  static full(shape: Shape, value: number, requiresGrad = false): Tensor {
    return new Tensor(new Float32Array(shapeSize(shape)).fill(value), shape, requiresGrad);
  }

  /** Standard normal samples from the seeded generator. */
  static randn(shape: Shape, opts: { generator?: Generator; requiresGrad?: boolean } = {}): Tensor {
    const g = opts.generator ?? defaultGenerator;
    const data = new Float32Array(shapeSize(shape));
    for (let i = 0; i < data.length; i++) data[i] = g.normal();
    return new Tensor(data, shape, opts.requiresGrad ?? false);
  }

  /** Uniform samples in [low, high) from the seeded generator. */
  static rand(shape: Shape, opts: { generator?: Generator; low?: number; high?: number; requiresGrad?: boolean } = {}): Tensor {
    const g = opts.generator ?? defaultGenerator;
    const low = opts.low ?? 0, high = opts.high ?? 1;
    const data = new Float32Array(shapeSize(shape));
    for (let i = 0; i < data.length; i++) data[i] = low + (high - low) * g.random();
    return new Tensor(data, shape, opts.requiresGrad ?? false);
  }

  // ---- facts ----

  get ndim(): number {
    return this.shape.length;
  }

  get size(): number {
    return this.data.length;
  }

  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  item(): number {
    if (this.data.length !== 1) {
      throw new RangeError(`a tensor with ${this.data.length} elements cannot be converted to a number`);
    }
    return this.data[0];
  }

  toArray(): number[] {
    return Array.from(this.data);
  }

  toString(): string {
    return `Tensor(shape=${formatShape(this.shape)}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  // ---- autograd ----

  /** A tensor sharing this one's storage, cut from the tape. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape, false);
  }

  /** Sets requiresGrad on a leaf, as requires_grad_(). */
  requiresGrad_(flag = true): this {
    if (!this.isLeaf && !flag) throw new Error('requiresGrad can only be changed on leaf tensors');
    this.requiresGrad = flag;
    return this;
  }

  /** Keeps .grad on a non-leaf tensor after backward(). */
  retainGrad(): void {
    if (!this.requiresGrad) throw new Error("can't retain the gradient of a tensor that does not require grad");
    this.retainsGrad = true;
  }

  /** fn(grad) runs when this tensor's gradient is complete; a returned tensor replaces it. */
  registerHook(fn: TensorHook): RemovableHandle {
    if (!this.requiresGrad) throw new Error("can't register a hook on a tensor that does not require grad");
    this.hooks.push(fn);
    return { remove: () => { this.hooks = this.hooks.filter((h) => h !== fn); } };
  }

  /** fn(this) runs each time backward has added a gradient into this leaf's .grad (PyTorch's register_post_accumulate_grad_hook). */
  registerPostAccumulateGradHook(fn: (leaf: Tensor) => void): RemovableHandle {
    if (!this.isLeaf) throw new Error('post accumulate grad hooks cannot be registered on non-leaf tensors');
    if (!this.requiresGrad) throw new Error("can't register a hook on a tensor that does not require grad");
    this.postAccumulateHooks.push(fn);
    return { remove: () => { this.postAccumulateHooks = this.postAccumulateHooks.filter((h) => h !== fn); } };
  }

  /** Back-propagates from this tensor; gradients accumulate into leaves' .grad as in PyTorch. */
  backward(gradient?: Tensor): void {
    if (!this.requiresGrad) {
      throw new Error('backward() called on a tensor that does not require grad and has no grad_fn');
    }
    let seed: Tensor;
    if (gradient) {
      if (gradient.size !== this.size) {
        throw new RangeError(`gradient shape ${formatShape(gradient.shape)} does not match tensor shape ${formatShape(this.shape)}`);
      }
      seed = gradient.detach();
    } else {
      if (this.size !== 1) throw new Error('grad can be implicitly created only for scalar outputs');
      seed = new Tensor(emptyFloat32(this.size).fill(1), this.shape);
    }
    weightsChanged();
    noGrad(() => runBackward(this, seed));
  }

  /** Whether hooks see (and may keep or replace) this tensor's gradient. */
  get hasGradHooks(): boolean {
    return this.hooks.length > 0;
  }

  /**
   * Called by the backward walk: applies hooks and stores .grad where PyTorch would (leaves,
   * and non-leaves that retain it). Returns the gradient, possibly replaced by a hook. owned:
   * nothing else holds grad's storage, so a leaf's first .grad takes it instead of a copy (as
   * PyTorch's AccumulateGrad steals a gradient no one else references).
   */
  acceptGrad(grad: Tensor, owned = false): Tensor {
    for (const hook of this.hooks) {
      const replaced = hook(grad);
      if (replaced) grad = replaced;
    }
    if (this.isLeaf && (this.gradStorageFixed || recyclingBuffers())) this.accumulateInOwnStorage(grad);
    else if (this.isLeaf || this.retainsGrad) {
      const adopt = owned && this.isLeaf && this.hooks.length === 0;
      this.grad = this.grad ? ops.add(this.grad, grad) : new Tensor(adopt ? grad.data : grad.data.slice(), this.shape);
    }
    if (this.isLeaf) for (const hook of this.postAccumulateHooks) hook(this);
    return grad;
  }

  /**
   * An optimizer's flat storage: this leaf's values move into `data` and its gradients go to
   * `grad` from now on (views of one buffer for all parameters, so an update is one native call).
   */
  moveToFlatStorage(data: Float32Array, grad: Float32Array): void {
    if (!this.isLeaf || data.length !== this.size || grad.length !== this.size) {
      throw new RangeError(`flat storage of ${data.length} and ${grad.length} elements for a leaf of ${this.size}`);
    }
    data.set(this.data);
    (this as { data: Float32Array }).data = data;
    if (this.grad) {
      grad.set(this.grad.data);
      this.grad = new Tensor(grad, this.shape);
    }
    this.gradStorage = grad;
    this.gradStorageFixed = true;
    weightsChanged();
  }

  /**
   * Where a backward kernel may write this leaf's gradient so that acceptGrad need not copy it:
   * the leaf's own gradient storage, when the gradient would be copied there (flat storage or a
   * recycling step), none is there yet and no hook sees it; else null. Lent once until accepted,
   * so a weight used twice in one graph gets a second buffer for its second gradient.
   */
  gradientTarget(): Float32Array | null {
    if (!this.isLeaf || this.grad || this.gradStorageLentIn === backwardWalks || this.hooks.length > 0) return null;
    if (!this.gradStorageFixed && !recyclingBuffers()) return null;
    if (this.gradStorage?.length !== this.size) this.gradStorage = new Float32Array(this.size);
    this.gradStorageLentIn = backwardWalks;
    return this.gradStorage;
  }

  /**
   * Inside a recycling step a leaf's .grad must outlive the step's buffers: it is the leaf's own
   * storage (kept across zeroGrad), written with the first gradient and added to in place after.
   */
  private accumulateInOwnStorage(grad: Tensor): void {
    this.gradStorageLentIn = -1;
    if (!this.grad && grad.data === this.gradStorage) {
      // A kernel wrote it in place (gradientTarget): ~45 MB a resnet18 step not copied.
      this.grad = new Tensor(this.gradStorage, this.shape);
      return;
    }
    if (this.grad) {
      const own = this.grad.data;
      ops.addInto(own, this.grad, grad);
      return;
    }
    if (this.gradStorage?.length !== this.size) this.gradStorage = new Float32Array(this.size);
    this.gradStorage.set(grad.data);
    this.grad = new Tensor(this.gradStorage, this.shape);
  }

  // ---- op shorthands (see ops.ts) ----

  reshape(shape: Shape): Tensor { return ops.reshape(this, shape); }
  view(shape: Shape): Tensor { return ops.reshape(this, shape); }
  add(other: Tensor): Tensor { return ops.add(this, other); }
  sub(other: Tensor): Tensor { return ops.sub(this, other); }
  mul(other: Tensor): Tensor { return ops.mul(this, other); }
  div(other: Tensor): Tensor { return ops.div(this, other); }
  relu(): Tensor { return ops.relu(this); }
  sum(): Tensor { return ops.sum(this); }
  mean(): Tensor { return ops.mean(this); }
  matmul(other: Tensor): Tensor { return ops.matmul(this, other); }
}

// Backward walks begun: a gradient storage lent in an earlier walk (one that threw) is free again.
let backwardWalks = 0;

// Reverse topological walk from `root`; gradients of shared inputs are summed. In a recycling
// step, a gradient the walk made is given back to the step's buffers once every node that
// receives it has run (forward activations stay until the step ends: the caller may still read them).
function runBackward(root: Tensor, seed: Tensor): void {
  backwardWalks++;
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const inputs = top[0].gradFn?.inputs ?? [];
    if (top[1] < inputs.length) {
      const next = inputs[top[1]++];
      if (next.requiresGrad && !seen.has(next)) {
        seen.add(next);
        stack.push([next, 0]);
      }
    } else {
      order.push(top[0]);
      stack.pop();
    }
  }
  const pending = new Map<Tensor, Tensor>([[root, seed]]);
  // How many gradients of this walk share each storage (a backward may hand its incoming gradient
  // or a view of it on, or one tensor to several inputs); storage that hooks or the caller saw
  // counts twice. A leaf may take its gradient's storage only when the count is 1.
  const holders = new Map<Float32Array, number>([[seed.data, 2]]);
  const hold = (g: Tensor, n = 1) => holders.set(g.data, (holders.get(g.data) ?? 0) + n);
  const recycler = recyclingBuffers();
  const reuse = recycler ? new GradientReuse(recycler) : null;
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    let grad = pending.get(t);
    if (!grad) continue;
    pending.delete(t);
    const received = grad;
    grad = t.acceptGrad(grad, holders.get(grad.data) === 1);
    if (t.hasGradHooks) {
      hold(received, 2);
      hold(grad, 2);
      reuse?.pin(received);
      reuse?.pin(grad);
    }
    if (t.gradFn) {
      const node = t.gradFn, g = grad;
      const profiler = activeProfiler();
      const inputGrads = profiler ? profiler.backward(node.layer, () => node.backward(g)) : node.backward(g);
      node.inputs.forEach((input, k) => {
        const g = inputGrads[k];
        if (!g || !input.requiresGrad) return;
        if (g.size !== input.size) {
          throw new Error(`${node.name} backward returned a gradient of shape ${formatShape(g.shape)} for an input of shape ${formatShape(input.shape)}`);
        }
        const existing = pending.get(input);
        hold(g);
        const sum = existing ? ops.add(existing, g) : g;
        if (existing) hold(sum);
        pending.set(input, sum);
        if (reuse) {
          reuse.use(sum);
          if (existing) {
            reuse.done(existing);
            reuse.done(g, false);
          }
        }
      });
    }
    reuse?.done(received);
  }
}

// The walk's count of pending gradients per storage: at zero, storage the walk itself took (and
// no hook saw) goes back to the step's buffers for the next node's gradient.
class GradientReuse {
  private readonly uses = new Map<Float32Array, number>();
  private readonly pinned = new Set<Float32Array>();
  private readonly since: number;

  constructor(private readonly buffers: StepBuffers) {
    this.since = buffers.mark();
  }

  pin(g: Tensor): void {
    this.pinned.add(g.data);
  }

  use(g: Tensor): void {
    this.uses.set(g.data, (this.uses.get(g.data) ?? 0) + 1);
  }

  /** One pending use of g ended (counted: false for a gradient never counted, summed on arrival). */
  done(g: Tensor, counted = true): void {
    const left = (this.uses.get(g.data) ?? 0) - (counted ? 1 : 0);
    if (left > 0) {
      this.uses.set(g.data, left);
      return;
    }
    this.uses.delete(g.data);
    if (!this.pinned.has(g.data) && this.buffers.releasable(g.data, this.since)) this.buffers.release(g.data);
  }
}
