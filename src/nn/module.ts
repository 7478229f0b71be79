// Module: parameters, buffers and children under torchvision's state-dict names, train/eval
// mode, and forward/backward hooks with PyTorch's meaning. Subclasses implement forward();
// callers use call(), which runs the hooks (PyTorch's __call__).
import { Tensor, formatShape, type RemovableHandle } from '../tensor/tensor.js';
import { record } from '../tensor/ops.js';

export type ForwardHook = (module: Module, inputs: Tensor[], output: Tensor) => Tensor | void;
/** gradInput holds null where the input needs no gradient; a returned array replaces it. */
export type BackwardHook = (module: Module, gradInput: (Tensor | null)[], gradOutput: Tensor[]) => (Tensor | null)[] | void;

export interface BufferOptions {
  /** Part of the state dict (PyTorch's persistent=True). */
  persistent?: boolean;
  /** Stored as int64 in checkpoints, as torchvision's num_batches_tracked. */
  int64?: boolean;
}

export class StateDictError extends Error {}

export abstract class Module {
  training = true;
  private readonly params = new Map<string, Tensor | null>();
  private readonly buffers = new Map<string, { tensor: Tensor | null; options: BufferOptions }>();
  private readonly children_ = new Map<string, Module>();
  private forwardHooks: ForwardHook[] = [];
  private backwardHooks: BackwardHook[] = [];

  abstract forward(input: Tensor): Tensor;

  /** The class name PyTorch would print (Conv2d, BasicBlock, ...). */
  get typeName(): string {
    return this.constructor.name;
  }

  // ---- registration ----

  protected registerParameter(name: string, tensor: Tensor | null): Tensor {
    if (tensor) tensor.requiresGrad = true;
    this.params.set(name, tensor);
    return tensor as Tensor;
  }

  protected registerBuffer(name: string, tensor: Tensor | null, options: BufferOptions = {}): Tensor {
    this.buffers.set(name, { tensor, options: { persistent: true, ...options } });
    return tensor as Tensor;
  }

  /** Replaces a buffer's tensor (e.g. after an out-of-place update). */
  protected setBuffer(name: string, tensor: Tensor): void {
    const entry = this.buffers.get(name);
    if (!entry) throw new Error(`${this.typeName} has no buffer '${name}'`);
    entry.tensor = tensor;
  }

  registerModule<M extends Module>(name: string, module: M): M {
    if (name.includes('.') || name === '') throw new Error(`invalid module name '${name}'`);
    this.children_.set(name, module);
    return module;
  }

  // ---- traversal ----

  *namedChildren(): IterableIterator<[string, Module]> {
    yield* this.children_;
  }

  *children(): IterableIterator<Module> {
    yield* this.children_.values();
  }

  /** This module ('') and every descendant, depth first, with dotted paths. */
  *namedModules(prefix = ''): IterableIterator<[string, Module]> {
    yield [prefix, this];
    for (const [name, child] of this.children_) yield* child.namedModules(prefix ? `${prefix}.${name}` : name);
  }

  *modules(): IterableIterator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }

  *namedParameters(prefix = ''): IterableIterator<[string, Tensor]> {
    const seen = new Set<Tensor>();
    for (const [path, m] of this.namedModules(prefix)) {
      for (const [name, p] of m.params) {
        if (p && !seen.has(p)) {
          seen.add(p);
          yield [path ? `${path}.${name}` : name, p];
        }
      }
    }
  }

  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  *namedBuffers(prefix = ''): IterableIterator<[string, Tensor]> {
    for (const [path, m] of this.namedModules(prefix)) {
      for (const [name, b] of m.buffers) if (b.tensor) yield [path ? `${path}.${name}` : name, b.tensor];
    }
  }

  /** Module-local lookup of a parameter or buffer by name. */
  getLocal(name: string): Tensor | null {
    return this.params.get(name) ?? this.buffers.get(name)?.tensor ?? null;
  }

  /** The descendant at a dotted path ('layer4.1.conv2'), or null. */
  getSubmodule(path: string): Module | null {
    let m: Module | undefined = this;
    for (const part of path === '' ? [] : path.split('.')) {
      m = m.children_.get(part);
      if (!m) return null;
    }
    return m;
  }

  /** fn on every descendant, then on this module (PyTorch's order). */
  apply(fn: (m: Module) => void): this {
    for (const child of this.children_.values()) child.apply(fn);
    fn(this);
    return this;
  }

  // ---- modes and gradients ----

  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Freezes (false) or unfreezes (true) every parameter. */
  requiresGrad(flag = true): this {
    for (const p of this.parameters()) p.requiresGrad = flag;
    return this;
  }

  // ---- state dict ----

  /** Parameters and persistent buffers in PyTorch's order, under torchvision's names. */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [path, m] of this.namedModules()) {
      const key = (name: string) => (path ? `${path}.${name}` : name);
      for (const [name, p] of m.params) if (p) out.set(key(name), p);
      for (const [name, b] of m.buffers) if (b.tensor && b.options.persistent) out.set(key(name), b.tensor);
    }
    return out;
  }

  /** Names of state-dict entries stored as int64 (num_batches_tracked). */
  int64Keys(): Set<string> {
    const out = new Set<string>();
    for (const [path, m] of this.namedModules()) {
      for (const [name, b] of m.buffers) if (b.tensor && b.options.int64) out.add(path ? `${path}.${name}` : name);
    }
    return out;
  }

  /**
   * Copies values into this module's tensors in place (optimizers keep their references).
   * Shape mismatches are always errors; strict mode also rejects missing and unexpected keys.
   */
  loadStateDict(dict: ReadonlyMap<string, Tensor> | Record<string, Tensor>, { strict = true } = {}): { missing: string[]; unexpected: string[] } {
    const source: ReadonlyMap<string, Tensor> = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !source.has(k));
    const unexpected = [...source.keys()].filter((k) => !own.has(k));
    const mismatched: string[] = [];
    for (const [k, target] of own) {
      const src = source.get(k);
      if (src && (src.shape.length !== target.shape.length || src.shape.some((d, i) => d !== target.shape[i]))) {
        mismatched.push(`size mismatch for ${k}: copying a param with shape ${formatShape(src.shape)} from checkpoint, the shape in current model is ${formatShape(target.shape)}`);
      }
    }
    const quote = (keys: string[]) => keys.map((k) => `"${k}"`).join(', ');
    const problems = [
      ...(strict && missing.length ? [`Missing key(s) in state_dict: ${quote(missing)}`] : []),
      ...(strict && unexpected.length ? [`Unexpected key(s) in state_dict: ${quote(unexpected)}`] : []),
      ...mismatched,
    ];
    if (problems.length) throw new StateDictError(`Error(s) in loading state_dict for ${this.typeName}: ${problems.join('; ')}`);
    for (const [k, target] of own) {
      const src = source.get(k);
      if (src) target.data.set(src.data);
    }
    return { missing, unexpected };
  }

  // ---- hooks ----

  /** fn(module, inputs, output) after every forward; a returned tensor replaces the output. */
  registerForwardHook(fn: ForwardHook): RemovableHandle {
    this.forwardHooks.push(fn);
    return { remove: () => { this.forwardHooks = this.forwardHooks.filter((h) => h !== fn); } };
  }

  /**
   * fn(module, gradInput, gradOutput) once the gradients of this module's input are known
   * (register_full_backward_hook). When the input needs no gradient, gradInput is [null] and
   * fn runs as soon as gradOutput is known.
   */
  registerFullBackwardHook(fn: BackwardHook): RemovableHandle {
    this.backwardHooks.push(fn);
    return { remove: () => { this.backwardHooks = this.backwardHooks.filter((h) => h !== fn); } };
  }

  /** Runs forward with hooks: PyTorch's module(x). */
  call(input: Tensor): Tensor {
    const hooks = this.backwardHooks.length ? [...this.backwardHooks] : null;
    const tracked = hooks !== null && (input.requiresGrad || this.parameters().some((p) => p.requiresGrad));
    const x = tracked && input.requiresGrad ? identity(input) : input;
    let out = this.forward(x);
    for (const hook of this.forwardHooks) {
      const replaced = hook(this, [x], out);
      if (replaced) out = replaced;
    }
    if (tracked && out.requiresGrad) {
      out = identity(out);
      let gradOutput: Tensor | null = null;
      out.registerHook((g) => {
        gradOutput = g;
        if (!x.requiresGrad) for (const h of hooks) h(this, [null], [g]);
      });
      if (x.requiresGrad) {
        x.registerHook((g) => {
          let gradInput: (Tensor | null)[] = [g];
          for (const h of hooks) gradInput = h(this, gradInput, [gradOutput!]) ?? gradInput;
          return gradInput[0] ?? undefined;
        });
      }
    }
    return out;
  }

  /** PyTorch-style one-line description of the options, e.g. "3, 64, kernel_size=(3, 3)". */
  extraRepr(): string {
    return '';
  }

  toString(): string {
    const kids = [...this.children_];
    if (!kids.length) return `${this.typeName}(${this.extraRepr()})`;
    const lines = kids.map(([name, m]) => `  (${name}): ${m.toString().split('\n').join('\n  ')}`);
    return `${this.typeName}(\n${lines.join('\n')}\n)`;
  }
}

/** A tape node that passes values through, so hooks can observe one module's gradients. */
function identity(x: Tensor): Tensor {
  return record(new Tensor(x.data, x.shape), 'identity', [x], (g) => [g]);
}
