// The learning-rate scheduler base, as torch.optim.lr_scheduler._LRScheduler (PyTorch 1.13):
// the constructor records each group's initial lr and takes the first step; step() advances
// lastEpoch and writes getLr() into the optimizer's groups.
import { Optimizer, hasInitialLr, setInitialLr } from './optimizer.js';

export abstract class LRScheduler {
  readonly optimizer: Optimizer;
  /** The index of the last step taken (PyTorch's last_epoch); -1 before the first. */
  lastEpoch: number;
  /** Each group's initialLr when the scheduler was made. */
  baseLrs: number[];
  /** step() calls including the constructor's (PyTorch's _step_count). */
  protected stepCount = 0;
  protected lastLr: number[] = [];

  /**
   * Subclasses set their options and then call initialStep() to take PyTorch's first step
   * (a base constructor cannot: the subclass's fields do not exist yet). setsInitialLr false
   * is for ReduceLROnPlateau, which leaves the groups alone.
   */
  constructor(optimizer: Optimizer, lastEpoch = -1, setsInitialLr = true) {
    if (!(optimizer instanceof Optimizer)) throw new TypeError(`${String(optimizer)} is not an Optimizer`);
    if (!Number.isInteger(lastEpoch) || lastEpoch < -1) {
      throw new RangeError(`Expected lastEpoch to be an integer >= -1 but got ${lastEpoch}`);
    }
    this.optimizer = optimizer;
    if (setsInitialLr) {
      optimizer.paramGroups.forEach((g, i) => {
        if (lastEpoch === -1) {
          if (!hasInitialLr(g)) setInitialLr(g, g.lr);
        } else if (!hasInitialLr(g)) {
          throw new Error(`param 'initial_lr' is not specified in param_groups[${i}] when resuming an optimizer`);
        }
      });
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr);
    this.lastEpoch = lastEpoch;
  }

  /** Resets the step count and takes a step (PyTorch's _initial_step; SequentialLR uses it too). */
  initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** Advances one step. The metric is only for ReduceLROnPlateau; other schedulers ignore it. */
  step(metric?: number): void {
    this.stepCount += 1;
    this.lastEpoch += 1;
    this.apply(this.getLr());
  }

  /**
   * Jumps to `epoch` with the closed form where the scheduler has one (PyTorch's deprecated
   * step(epoch); SequentialLR restarts a scheduler at a milestone with stepToEpoch(0)).
   */
  stepToEpoch(epoch: number): void {
    if (typeof epoch !== 'number' || !Number.isFinite(epoch) || epoch < 0) {
      throw new RangeError(`Expected non-negative epoch, but got ${epoch}`);
    }
    this.stepCount += 1;
    this.lastEpoch = epoch;
    this.apply(this.closedFormLr() ?? this.getLr());
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** The chainable form: the next lr of each group from the current ones. */
  protected abstract getLr(): number[];

  /** The lr of each group at lastEpoch from the base lrs, where a closed form exists. */
  protected closedFormLr(): number[] | null {
    return null;
  }

  protected currentLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  protected apply(values: number[]): void {
    this.optimizer.paramGroups.forEach((g, i) => { g.lr = values[i]; });
    this.lastLr = this.currentLrs();
  }

  /** JSON-safe state: counters, base and last lrs, and the scheduler's options. */
  stateDict(): Record<string, unknown> {
    return { lastEpoch: this.lastEpoch, stepCount: this.stepCount, baseLrs: [...this.baseLrs], lastLr: [...this.lastLr] };
  }

  loadStateDict(s: Record<string, unknown>): void {
    if (s === null || typeof s !== 'object') throw new TypeError('a scheduler state must be an object');
    const groups = this.optimizer.paramGroups.length;
    const baseLrs = readNumbers(s, 'baseLrs');
    const lastLr = readNumbers(s, 'lastLr');
    if (baseLrs.length !== groups || lastLr.length !== groups) {
      throw new RangeError(`scheduler state has lrs for ${baseLrs.length} parameter groups but the optimizer has ${groups}`);
    }
    const lastEpoch = readNumber(s, 'lastEpoch');
    const stepCount = readNumber(s, 'stepCount');
    this.lastEpoch = lastEpoch;
    this.stepCount = stepCount;
    this.baseLrs = baseLrs;
    this.lastLr = lastLr;
  }
}

// ---- helpers for the schedulers ----

/** Python's %, whose result has the divisor's sign. */
export function pyMod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

export function readNumber(s: Record<string, unknown>, key: string): number {
  const v = decodeNumber(s[key]);
  if (typeof v !== 'number') throw new TypeError(`scheduler state lacks a number '${key}'`);
  return v;
}

export function readNumbers(s: Record<string, unknown>, key: string): number[] {
  const v = s[key];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) {
    throw new TypeError(`scheduler state lacks an array of numbers '${key}'`);
  }
  return [...(v as number[])];
}

export function readString(s: Record<string, unknown>, key: string): string {
  const v = s[key];
  if (typeof v !== 'string') throw new TypeError(`scheduler state lacks a string '${key}'`);
  return v;
}

export function readBoolean(s: Record<string, unknown>, key: string): boolean {
  const v = s[key];
  if (typeof v !== 'boolean') throw new TypeError(`scheduler state lacks a boolean '${key}'`);
  return v;
}

/** JSON has no Infinity or NaN: those travel as strings. */
export function encodeNumber(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

function decodeNumber(v: unknown): unknown {
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (v === 'NaN') return NaN;
  return v;
}

/** A positive integer option, or the PyTorch-style error. */
export function positiveInteger(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new RangeError(`Expected positive integer ${name}, but got ${String(v)}`);
  }
  return v;
}

/** One value per group from a scalar or a per-group array (PyTorch's _format_param). */
export function perGroup(optimizer: Optimizer, name: string, v: number | readonly number[]): number[] {
  const groups = optimizer.paramGroups.length;
  if (Array.isArray(v)) {
    if (v.length !== groups) throw new RangeError(`expected ${groups} values for ${name}, got ${v.length}`);
    return [...v];
  }
  if (typeof v !== 'number') throw new TypeError(`expected a number or an array of numbers for ${name}`);
  return new Array<number>(groups).fill(v);
}
