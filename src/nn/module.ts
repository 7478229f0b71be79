// Module: parameters, buffers and children under torchvision's state-dict names, train/eval
// mode, and forward/backward hooks with PyTorch's meaning. Subclasses implement forward();
// callers use call(), which runs the hooks (PyTorch's __call__). Every module is seen through a
// proxy so that assigning a property registers what it holds, as PyTorch's __setattr__ does.
import { Tensor, formatShape, type RemovableHandle, type Shape } from '../tensor/tensor.js';
import { record } from '../tensor/ops.js';
import { activeProfiler } from '../tensor/profile.js';
import { Parameter } from './parameter.js';
import { weightsChanged } from '../tensor/weights-generation.js';

let structure = 0;

/**
 * A counter that moves whenever any module's attributes, children, parameters, buffers or hooks
 * may have changed, so that a plan derived from a model's structure (small-network.ts) can be
 * reused without walking the modules again (each property read through their proxies costs).
 */
export function moduleStructureGeneration(): number {
  return structure;
}

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

export interface LoadStateDictOptions {
  /** Missing and unexpected keys are errors (default true). */
  strict?: boolean;
  /** Leave tensors whose shape differs from the model's as they are and report them, instead of failing. */
  skipMismatched?: boolean;
}

export interface SkippedTensor {
  key: string;
  /** Why it was not loaded, e.g. "shape [1000, 512] in the file, [3, 512] in the model". */
  reason: string;
  fileShape: Shape;
  modelShape: Shape;
}

export interface LoadStateDictReport {
  /** Model keys that took the file's values. */
  loaded: string[];
  /** Keys present on both sides whose shapes differ (only with skipMismatched). */
  skipped: SkippedTensor[];
  /** Model keys the file lacks. */
  missing: string[];
  /** File keys the model lacks. */
  unexpected: string[];
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'Object';
  return typeof value;
}

export abstract class Module {
  training = true;
  private readonly params = new Map<string, Tensor | null>();
  private readonly buffers = new Map<string, { tensor: Tensor | null; options: BufferOptions }>();
  /** null where a child was set to null (PyTorch keeps the slot, so a later module returns to it). */
  private readonly children_ = new Map<string, Module | null>();
  /** Properties whose value is registered under another name (camelCase → snake_case). */
  private readonly aliases = new Map<string, string>();
  private forwardHooks: ForwardHook[] = [];
  private backwardHooks: BackwardHook[] = [];

  constructor() {
    // Subclass field initializers and every later assignment go through the proxy's traps.
    return new Proxy(this, Module.attributeTraps);
  }

  // A property write on the proxy ends in [[DefineOwnProperty]] (plain assignment included), so
  // one trap sees class fields, constructor assignments and `model.fc = new Linear(...)` alike.
  private static readonly attributeTraps: ProxyHandler<Module> = {
    defineProperty(target, prop, descriptor) {
      structure++;
      if (typeof prop === 'string' && 'value' in descriptor) target.registerAttribute(prop, descriptor.value);
      return Reflect.defineProperty(target, prop, descriptor);
    },
    deleteProperty(target, prop) {
      structure++;
      if (typeof prop === 'string') {
        target.params.delete(prop);
        target.buffers.delete(prop);
        target.children_.delete(prop);
      }
      return Reflect.deleteProperty(target, prop);
    },
  };

  /**
   * PyTorch's __setattr__: a Parameter or Module is registered under the property's name. A
   * property holding something already registered under another name (`this.trunkOutput =
   * this.registerModule('trunk_output', ...)`, camelCase for a state-dict name) becomes an alias,
   * and later assignments to it replace what that name registers.
   */
  private registerAttribute(property: string, value: unknown): void {
    const name = this.aliases.get(property) ?? property;
    const other = value !== null && typeof value === 'object' ? this.registeredNameOf(value) : undefined;
    if (other !== undefined && other !== name) {
      this.aliases.set(property, other);
      return;
    }
    if (value instanceof Parameter) {
      this.buffers.delete(name);
      this.children_.delete(name);
      this.params.set(name, value);
    } else if (value instanceof Module) {
      this.params.delete(name);
      this.buffers.delete(name);
      this.children_.set(name, value);
    } else if (this.params.has(name)) {
      if (value === null || value === undefined) this.params.set(name, null);
      else if (value !== this.params.get(name)) {
        throw new TypeError(`cannot assign '${describeValue(value)}' as parameter '${name}' (nn.Parameter or null expected)`);
      }
    } else if (this.children_.has(name)) {
      if (value === null || value === undefined) this.children_.set(name, null);
      else throw new TypeError(`cannot assign '${describeValue(value)}' as child module '${name}' (nn.Module or null expected)`);
    } else {
      const buffer = this.buffers.get(name);
      if (!buffer) return;
      if (value !== null && value !== undefined && !(value instanceof Tensor)) {
        throw new TypeError(`cannot assign '${describeValue(value)}' as buffer '${name}' (Tensor or null expected)`);
      }
      buffer.tensor = (value ?? null) as Tensor | null;
    }
  }

  /** The name a child, parameter or buffer is registered under, if it is. */
  private registeredNameOf(value: object): string | undefined {
    for (const [name, child] of this.children_) if (child === value) return name;
    for (const [name, p] of this.params) if (p === value) return name;
    for (const [name, b] of this.buffers) if (b.tensor === value) return name;
    return undefined;
  }

  /** Keeps a property of the registered name pointing at the registered value (the proxy's trap sees it is the same). */
  private syncProperty(name: string, value: unknown): void {
    if (Object.prototype.hasOwnProperty.call(this, name) && (this as Record<string, unknown>)[name] !== value) {
      (this as Record<string, unknown>)[name] = value;
    }
  }

  abstract forward(input: Tensor): Tensor;

  /** The class name PyTorch would print (Conv2d, BasicBlock, ...). */
  get typeName(): string {
    return this.constructor.name;
  }

  // ---- registration ----

  protected registerParameter(name: string, tensor: Tensor | null): Tensor {
    structure++;
    if (tensor && !(tensor instanceof Parameter)) tensor.requiresGrad = true;
    this.buffers.delete(name);
    this.children_.delete(name);
    this.params.set(name, tensor);
    this.syncProperty(name, tensor);
    return tensor as Tensor;
  }

  protected registerBuffer(name: string, tensor: Tensor | null, options: BufferOptions = {}): Tensor {
    structure++;
    this.params.delete(name);
    this.children_.delete(name);
    this.buffers.set(name, { tensor, options: { persistent: true, ...options } });
    this.syncProperty(name, tensor);
    return tensor as Tensor;
  }

  /** Replaces a buffer's tensor (e.g. after an out-of-place update). */
  protected setBuffer(name: string, tensor: Tensor): void {
    structure++;
    const entry = this.buffers.get(name);
    if (!entry) throw new Error(`${this.typeName} has no buffer '${name}'`);
    entry.tensor = tensor;
  }

  /** Registers (or replaces, keeping its place) a child; a property of that name follows it. */
  registerModule<M extends Module>(name: string, module: M): M {
    structure++;
    if (name.includes('.') || name === '') throw new Error(`invalid module name '${name}'`);
    this.params.delete(name);
    this.buffers.delete(name);
    this.children_.set(name, module);
    this.syncProperty(name, module);
    return module;
  }

  // ---- traversal ----

  *namedChildren(): IterableIterator<[string, Module]> {
    for (const [name, child] of this.children_) if (child) yield [name, child];
  }

  *children(): IterableIterator<Module> {
    for (const [, child] of this.namedChildren()) yield child;
  }

  /** This module ('') and every descendant, depth first, with dotted paths. */
  *namedModules(prefix = ''): IterableIterator<[string, Module]> {
    yield [prefix, this];
    for (const [name, child] of this.namedChildren()) yield* child.namedModules(prefix ? `${prefix}.${name}` : name);
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
      m = m.children_.get(part) ?? undefined;
      if (!m) return null;
    }
    return m;
  }

  /** fn on every descendant, then on this module (PyTorch's order). */
  apply(fn: (m: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  // ---- modes and gradients ----

  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    weightsChanged();
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
   * Shape mismatches are errors unless skipMismatched leaves those tensors as they are (reported
   * in `skipped`); strict mode also rejects missing and unexpected keys.
   */
  loadStateDict(dict: ReadonlyMap<string, Tensor> | Record<string, Tensor>, { strict = true, skipMismatched = false }: LoadStateDictOptions = {}): LoadStateDictReport {
    const source: ReadonlyMap<string, Tensor> = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !source.has(k));
    const unexpected = [...source.keys()].filter((k) => !own.has(k));
    const skipped: SkippedTensor[] = [];
    const loaded: string[] = [];
    for (const [k, target] of own) {
      const src = source.get(k);
      if (!src) continue;
      if (src.shape.length !== target.shape.length || src.shape.some((d, i) => d !== target.shape[i])) {
        skipped.push({ key: k, reason: `shape ${formatShape(src.shape)} in the file, ${formatShape(target.shape)} in the model`, fileShape: src.shape, modelShape: target.shape });
      } else {
        loaded.push(k);
      }
    }
    const quote = (keys: string[]) => keys.map((k) => `"${k}"`).join(', ');
    const problems = [
      ...(strict && missing.length ? [`Missing key(s) in state_dict: ${quote(missing)}`] : []),
      ...(strict && unexpected.length ? [`Unexpected key(s) in state_dict: ${quote(unexpected)}`] : []),
      ...(skipMismatched ? [] : skipped.map((s) => `size mismatch for ${s.key}: copying a param with shape ${formatShape(s.fileShape)} from checkpoint, the shape in current model is ${formatShape(s.modelShape)}`)),
    ];
    if (problems.length) throw new StateDictError(`Error(s) in loading state_dict for ${this.typeName}: ${problems.join('; ')}`);
    for (const k of loaded) own.get(k)!.data.set(source.get(k)!.data);
    weightsChanged();
    return { loaded, skipped, missing, unexpected };
  }

  // ---- hooks ----

  /** fn(module, inputs, output) after every forward; a returned tensor replaces the output. */
  registerForwardHook(fn: ForwardHook): RemovableHandle {
    this.forwardHooks.push(fn);
    structure++;
    return { remove: () => { this.forwardHooks = this.forwardHooks.filter((h) => h !== fn); structure++; } };
  }

  /**
   * fn(module, gradInput, gradOutput) once the gradients of this module's input are known
   * (register_full_backward_hook). When the input needs no gradient, gradInput is [null] and
   * fn runs as soon as gradOutput is known.
   */
  registerFullBackwardHook(fn: BackwardHook): RemovableHandle {
    this.backwardHooks.push(fn);
    structure++;
    return { remove: () => { this.backwardHooks = this.backwardHooks.filter((h) => h !== fn); structure++; } };
  }

  /** Whether forward or backward hooks observe this module (fused paths must then keep its own output). */
  hasHooks(): boolean {
    return this.forwardHooks.length > 0 || this.backwardHooks.length > 0;
  }

  /** Runs forward with hooks: PyTorch's module(x). */
  call(input: Tensor): Tensor {
    const profiler = activeProfiler();
    return profiler ? profiler.forward(this, () => this.callWithHooks(input)) : this.callWithHooks(input);
  }

  private callWithHooks(input: Tensor): Tensor {
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
    const kids = [...this.namedChildren()];
    if (!kids.length) return `${this.typeName}(${this.extraRepr()})`;
    const lines = kids.map(([name, m]) => `  (${name}): ${m.toString().split('\n').join('\n  ')}`);
    return `${this.typeName}(\n${lines.join('\n')}\n)`;
  }
}

/** A tape node that passes values through, so hooks can observe one module's gradients. */
function identity(x: Tensor): Tensor {
  return record(new Tensor(x.data, x.shape), 'identity', [x], (g) => [g]);
}
