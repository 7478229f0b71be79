// The optimizer base: parameter groups with per-group options, per-parameter state, and a
// checkpointable state dict (JSON + tensors), as torch.optim.Optimizer.
import { Tensor, formatShape } from '../tensor/tensor.js';
import { FlatStorage } from './flat-storage.js';

export interface ParamGroup {
  params: Tensor[];
  lr: number;
  /** The lr a scheduler started from (PyTorch's initial_lr); the group's lr until a scheduler sets it. */
  initialLr: number;
  [option: string]: unknown;
}

export interface ParamGroupInput {
  params: Tensor[];
  [option: string]: unknown;
}

/** For checkpoints: a JSON part and the state tensors. */
export interface OptimizerState {
  json: { groups: Record<string, unknown>[]; step: number[] /* per param, 0 if none */ };
  /** Keys like '<paramIndex>.exp_avg', '<paramIndex>.momentum_buffer'; indices count params across groups. */
  tensors: Map<string, Tensor>;
}

/** Per-parameter state: the step count and named buffers (PyTorch's names: exp_avg, momentum_buffer, ...). */
export interface ParamState {
  step: number;
  buffers: Map<string, Tensor>;
}

/** Parameters of one group that update together: one native call over their data, grad and state. */
export interface UpdateRun {
  params: Tensor[];
  data: Float32Array;
  grad: Float32Array;
  /** The run's state buffer `name` (PyTorch's names), zeros where a parameter had none. */
  state(name: string): Float32Array;
  /** Whether every parameter of the run had state `name` before this step. */
  hadState(name: string): boolean;
}

// Groups whose initialLr a scheduler has set (PyTorch: 'initial_lr' in group). The field itself
// always exists on ParamGroup, so "set" is tracked here to keep setdefault semantics: a second
// scheduler on the same optimizer keeps the first one's base lr.
const initialLrSet = new WeakSet<ParamGroup>();

export function hasInitialLr(group: ParamGroup): boolean {
  return initialLrSet.has(group);
}

export function setInitialLr(group: ParamGroup, lr: number): void {
  group.initialLr = lr;
  initialLrSet.add(group);
}

export abstract class Optimizer {
  readonly paramGroups: ParamGroup[] = [];
  /** The constructor's options (PyTorch's optimizer.defaults); OneCycleLR looks for momentum/betas here. */
  readonly defaults: Record<string, unknown>;
  protected readonly state = new Map<Tensor, ParamState>();
  private flat: FlatStorage | null = null;

  constructor(params: Tensor[] | ParamGroupInput[], defaults: Record<string, unknown>) {
    this.defaults = { ...defaults };
    if (!Array.isArray(params)) throw new TypeError('params argument given to the optimizer should be an array of Tensors or of parameter groups');
    if (params.length === 0) throw new Error('optimizer got an empty parameter list');
    const groups: ParamGroupInput[] = params[0] instanceof Tensor
      ? [{ params: params as Tensor[] }]
      : params as ParamGroupInput[];
    for (const g of groups) this.addParamGroup(g);
  }

  /** Adds a group; options it leaves out come from the defaults (PyTorch's add_param_group). */
  addParamGroup(input: ParamGroupInput): void {
    if (input === null || typeof input !== 'object' || !Array.isArray(input.params)) {
      throw new TypeError('a parameter group must be an object with a params array');
    }
    for (const p of input.params) {
      if (!(p instanceof Tensor)) throw new TypeError('optimizer can only optimize Tensors');
      if (!p.isLeaf) throw new Error("can't optimize a non-leaf Tensor");
    }
    const seen = new Set<Tensor>();
    for (const g of this.paramGroups) for (const p of g.params) seen.add(p);
    for (const p of input.params) {
      if (seen.has(p)) throw new Error('some parameters appear in more than one parameter group');
      seen.add(p);
    }
    const group: Record<string, unknown> = { ...this.defaults, ...input, params: [...input.params] };
    if (group.lr === undefined) {
      throw new Error('parameter group didn\'t specify a value of required optimization parameter lr');
    }
    this.validateGroup(group);
    if (group.initialLr === undefined) group.initialLr = group.lr;
    this.paramGroups.push(group as ParamGroup);
  }

  /** Throws the PyTorch error for an invalid option of a group (defaults merged in). */
  protected abstract validateGroup(group: Record<string, unknown>): void;

  /** One update of every parameter that has a gradient. */
  abstract step(): void;

  /** Sets every parameter's grad to null (PyTorch 2's set_to_none=True). */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.grad = null;
  }

  /**
   * Moves every parameter, its gradient and its state into one contiguous buffer each (views):
   * step() then updates each run of a group's parameters that step alike with one native call.
   * Values, checkpoints and results stay as they were. Call it once the parameter groups are final.
   */
  useFlatStorage(): this {
    this.flat ??= new FlatStorage(this.allParams());
    return this;
  }

  /** The flat buffers after useFlatStorage(), else null. */
  get flatStorage(): FlatStorage | null {
    return this.flat;
  }

  /**
   * The parameters of a group that have a gradient, as runs that update together: with flat
   * storage, consecutive parameters whose gradients are in place and whose `key` (the state they
   * start the step in: step count, buffer made or not) is equal; otherwise one parameter a run.
   */
  protected updateRuns(params: readonly Tensor[], key: (p: Tensor) => number): UpdateRun[] {
    const runs: UpdateRun[] = [];
    let run: Tensor[] = [], runKey = 0;
    const close = () => {
      if (run.length) runs.push(this.flat ? this.flatRun(this.flat, run) : this.singleRun(run[0]));
      run = [];
    };
    for (const p of params) {
      const grad = this.gradOf(p);
      if (grad === null || !this.flat?.hasFlatGrad(p)) {
        close();
        if (grad !== null) runs.push(this.singleRun(p));
        continue;
      }
      const k = key(p);
      if (run.length && k !== runKey) close();
      run.push(p);
      runKey = k;
    }
    close();
    return runs;
  }

  private singleRun(p: Tensor): UpdateRun {
    return {
      params: [p], data: p.data, grad: p.grad!.data,
      hadState: (name) => this.state.get(p)?.buffers.has(name) ?? false,
      state: (name) => {
        const s = this.stateOf(p);
        let t = s.buffers.get(name);
        if (!t) s.buffers.set(name, (t = Tensor.zeros(p.shape)));
        return t.data;
      },
    };
  }

  private flatRun(flat: FlatStorage, params: Tensor[]): UpdateRun {
    const first = params[0], last = params[params.length - 1];
    return {
      params, data: flat.range('data', first, last), grad: flat.range('grad', first, last),
      hadState: (name) => params.every((p) => this.stateOf(p).buffers.has(name)),
      state: (name) => {
        for (const p of params) {
          const s = this.stateOf(p);
          const view = flat.stateOf(name, p), own = s.buffers.get(name);
          if (own?.data === view) continue;
          // New state starts at zero; state loaded from a checkpoint moves into its place.
          if (own) view.set(own.data);
          else view.fill(0);
          s.buffers.set(name, new Tensor(view, p.shape));
        }
        return flat.range(name, first, last);
      },
    };
  }

  /** The state of p, created empty on first use. */
  protected stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (!s) {
      s = { step: 0, buffers: new Map() };
      this.state.set(p, s);
    }
    return s;
  }

  /** The gradient of p, checked against p's shape, or null to skip p this step. */
  protected gradOf(p: Tensor): Tensor | null {
    const g = p.grad;
    if (g === null) return null;
    if (g.size !== p.size) {
      throw new RangeError(`gradient of shape ${formatShape(g.shape)} does not match parameter of shape ${formatShape(p.shape)}`);
    }
    return g;
  }

  private allParams(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  stateDict(): OptimizerState {
    const params = this.allParams();
    const index = new Map(params.map((p, i) => [p, i]));
    const groups = this.paramGroups.map((g) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(g)) {
        if (k === 'params' || k === 'initialLr') continue;
        out[k] = Array.isArray(v) ? [...v] : v;
      }
      // initialLr only once a scheduler set it, so loading keeps PyTorch's "resuming" check meaningful.
      if (hasInitialLr(g)) out.initialLr = g.initialLr;
      out.params = g.params.map((p) => index.get(p));
      return out;
    });
    const step = params.map((p) => this.state.get(p)?.step ?? 0);
    const tensors = new Map<string, Tensor>();
    params.forEach((p, i) => {
      const s = this.state.get(p);
      if (s) for (const [name, t] of s.buffers) tensors.set(`${i}.${name}`, t.clone());
    });
    return { json: { groups, step }, tensors };
  }

  loadStateDict(s: OptimizerState): void {
    if (!s || typeof s !== 'object' || !s.json || !Array.isArray(s.json.groups) || !Array.isArray(s.json.step) || !(s.tensors instanceof Map)) {
      throw new TypeError('an optimizer state needs json.groups, json.step and a tensors Map');
    }
    const { groups, step } = s.json;
    if (groups.length !== this.paramGroups.length) {
      throw new Error(`loaded state dict has ${groups.length} parameter groups but the optimizer has ${this.paramGroups.length}`);
    }
    groups.forEach((g, i) => {
      const n = Array.isArray(g.params) ? g.params.length : -1;
      if (n !== this.paramGroups[i].params.length) {
        throw new Error(`loaded state dict contains a parameter group that doesn't match the size of optimizer's group: group ${i} has ${n} parameters, expected ${this.paramGroups[i].params.length}`);
      }
    });
    const params = this.allParams();
    if (step.length !== params.length) {
      throw new Error(`loaded state dict has steps for ${step.length} parameters but the optimizer has ${params.length}`);
    }
    step.forEach((v, i) => {
      if (!Number.isInteger(v) || v < 0) throw new TypeError(`loaded state dict has an invalid step ${String(v)} for parameter ${i}`);
    });
    // Check every tensor before changing anything, so a bad state leaves the optimizer as it was.
    const buffers = params.map(() => new Map<string, Tensor>());
    for (const [key, t] of s.tensors) {
      const dot = key.indexOf('.');
      const i = Number(key.slice(0, dot));
      const name = key.slice(dot + 1);
      if (dot <= 0 || !Number.isInteger(i) || i < 0 || i >= params.length || name === '') {
        throw new Error(`loaded state dict has a tensor '${key}' that names no parameter of this optimizer`);
      }
      if (!(t instanceof Tensor) || t.size !== params[i].size) {
        throw new RangeError(`loaded state '${key}' has shape ${t instanceof Tensor ? formatShape(t.shape) : '?'} but parameter ${i} has shape ${formatShape(params[i].shape)}`);
      }
      buffers[i].set(name, new Tensor(t.data.slice(), params[i].shape));
    }
    const merged = groups.map((g, i) => {
      const current = this.paramGroups[i];
      const next: Record<string, unknown> = { ...current };
      for (const [k, v] of Object.entries(g)) if (k !== 'params') next[k] = Array.isArray(v) ? [...v] : v;
      next.params = current.params;
      this.validateGroup(next);
      return next;
    });
    merged.forEach((next, i) => {
      const group = this.paramGroups[i];
      for (const k of Object.keys(next)) group[k] = next[k];
      if (groups[i].initialLr !== undefined) setInitialLr(group, groups[i].initialLr as number);
    });
    this.state.clear();
    params.forEach((p, i) => {
      if (step[i] > 0 || buffers[i].size > 0) this.state.set(p, { step: step[i], buffers: buffers[i] });
    });
  }
}

// ---- option readers shared by the optimizers ----

export function numberOption(group: Record<string, unknown>, key: string): number {
  const v = group[key];
  if (typeof v !== 'number') throw new TypeError(`expected a number for ${key} but received ${String(v)}`);
  return v;
}

export function booleanOption(group: Record<string, unknown>, key: string): boolean {
  const v = group[key];
  if (typeof v !== 'boolean') throw new TypeError(`expected a boolean for ${key} but received ${String(v)}`);
  return v;
}

