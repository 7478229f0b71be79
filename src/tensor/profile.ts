// --profile: where the time of training steps goes. Wall time is charged to one category at a
// time (a stack: a native call inside the optimizer is the optimizer's), per layer (forward time
// exclusive of child layers; backward time of the tape nodes recorded inside the layer), and the
// native timers split convolution/GEMM calls into micro-kernels, operand packing and im2col.
// Nothing is installed until a Profiler starts: with profiling off, Module.call, record() and
// the backward walk each test one variable.
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { native, type NativeProfileTotals } from './native.js';
import { setAllocationWatch } from './storage.js';

/** Exclusive categories; their shares sum to the profiled wall time. */
export const PROFILE_CATEGORIES = ['gemm', 'packing/im2col', 'conv/gemm other', 'elementwise', 'loss', 'optimizer', 'allocation', 'other', 'data wait'] as const;
export type ProfileCategory = typeof PROFILE_CATEGORIES[number];
export type ProfilePhase = 'forward' | 'backward' | 'optimizer' | 'other';

// Binding name → what a call of it is; every other binding is elementwise work (activations,
// normalization, pooling, padding, copies), and these are not a training step's work at all.
const BINDING_CATEGORY: Record<string, 'conv' | 'loss' | 'optimizer'> = {
  conv2dForward: 'conv', conv2dMaxPoolForward: 'conv', conv2dMappedForward: 'conv', conv2dBackwardInput: 'conv', conv2dBackwardWeight: 'conv',
  gemm: 'conv', invertedResidualForward: 'conv', convnextMlpForward: 'conv', smallNetForward: 'conv', linearChainForward: 'conv', linearBackward: 'conv',
  denseLayerSmallForward: 'conv',
  // Weights transformed or packed for a convolution or GEMM path (each training step; eval caches them).
  conv2dWinogradWeights: 'conv', conv2dDenseMapWeights: 'conv', conv2dDenseMapWeightsByPixel: 'conv', conv2dDenseMapPack: 'conv', conv2dPackWeights: 'conv', conv2dLanesWeights: 'conv', convnextMlpPack: 'conv',
  invertedResidualPack: 'conv', gemmPackB: 'conv',
  crossEntropyForward: 'loss', crossEntropyBackward: 'loss', nllLossForward: 'loss', nllLossBackward: 'loss', accuracyTopK: 'loss',
  sgdStep: 'optimizer', adamStep: 'optimizer',
};
const UNTIMED = /^(cpuInfo|setIsa|setConvAlgo|convAlgo|profile|augment|mpi)|Ref/;

/** The category a native binding's time is charged to: its own, else elementwise. */
export function bindingFrame(name: string): 'conv' | 'loss' | 'optimizer' | 'elementwise' {
  return BINDING_CATEGORY[name] ?? 'elementwise';
}

export interface LayerProfile {
  name: string;
  type: string;
  /** Milliseconds per step. */
  forwardMs: number;
  backwardMs: number;
}

export interface ProfileReport {
  steps: number;
  /** Wall milliseconds per step, data wait included. */
  stepMs: number;
  categories: { name: ProfileCategory; ms: number; share: number }[];
  phases: { name: ProfilePhase; ms: number; share: number }[];
  /** GC pauses per step after the first two; they overlap the categories (mostly allocation), so they are not among them. */
  gcMs: number;
  /** Tensor storage allocated per step (steady state: after the first two steps of the profiled run). */
  allocations: number;
  allocatedMb: number;
  layers: LayerProfile[];
}

/** Steps before the steady state: the first takes the buffers the later ones recycle. */
const WARM_STEPS = 2;

type Frame = 'conv' | 'loss' | 'optimizer' | 'elementwise' | 'allocation' | 'other';

let active: Profiler | null = null;

/** The running profiler, or null (the hooks in Module.call, record() and backward test this). */
export function activeProfiler(): Profiler | null {
  return active;
}

export class Profiler {
  private readonly wall = new Map<Frame | 'data wait', number>();
  private readonly phaseMs = new Map<ProfilePhase, number>();
  private readonly stack: Frame[] = [];
  private mark = 0;
  private phase: ProfilePhase = 'other';
  private phaseMark = 0;
  private steps = 0;
  private stepEnded = -1;
  private readonly layerNames = new Map<object, { name: string; type: string }>();
  private readonly layerTimes = new Map<object, { forward: number; backward: number }>();
  private readonly layerStack: object[] = [];
  private layerMark = 0;
  /** GC entries arrive after the fact; those that began inside a step (stepSpans) count. */
  private readonly gcPauses: PerformanceEntry[] = [];
  private readonly stepSpans: number[] = [];
  private allocations = 0;
  private allocatedBytes = 0;
  private readonly originals = new Map<string, unknown>();
  private readonly observer: PerformanceObserver;
  private native: NativeProfileTotals = { gemmKernel: 0, packing: 0, im2col: 0 };

  /** layers: [path, module, type name] of the model's layers, for the per-layer table. */
  constructor(layers: Iterable<[string, object, string]> = []) {
    for (const [name, layer, type] of layers) this.layerNames.set(layer, { name: name || '(model)', type });
    this.observer = new PerformanceObserver((list) => this.gcPauses.push(...list.getEntries()));
  }

  start(): this {
    if (active) throw new Error('a profiler is already running');
    active = this;
    this.observer.observe({ entryTypes: ['gc'] });
    const bindings = native as unknown as Record<string, unknown>;
    for (const [name, fn] of Object.entries(bindings)) {
      if (typeof fn !== 'function' || UNTIMED.test(name)) continue;
      const frame = bindingFrame(name);
      this.originals.set(name, fn);
      bindings[name] = (...args: unknown[]) => this.within(frame, () => (fn as (...a: unknown[]) => unknown)(...args), true);
    }
    setAllocationWatch((bytes, fn) => {
      if (!this.inStep()) return fn();
      if (this.steps >= WARM_STEPS) {
        this.allocations++;
        this.allocatedBytes += bytes;
      }
      return this.within('allocation', fn, false);
    });
    native.profileRead(true);
    native.profileEnable(true);
    return this;
  }

  /** Stops timing and puts the bindings back; the report is complete after the next tick (GC entries arrive late). */
  async stop(): Promise<ProfileReport> {
    native.profileEnable(false);
    const n = native.profileRead(true);
    this.native = { gemmKernel: 1000 * n.gemmKernel, packing: 1000 * n.packing, im2col: 1000 * n.im2col };
    const bindings = native as unknown as Record<string, unknown>;
    for (const [name, fn] of this.originals) bindings[name] = fn;
    setAllocationWatch(null);
    await new Promise((done) => setImmediate(done));
    this.observer.disconnect();
    active = null;
    return this.report();
  }

  private inStep(): boolean {
    return this.stack.length > 0;
  }

  private charge(now: number): void {
    const top = this.stack[this.stack.length - 1];
    this.wall.set(top, (this.wall.get(top) ?? 0) + now - this.mark);
    this.mark = now;
  }

  /** Runs fn with its time charged to frame; a native call inside the optimizer stays the optimizer's. */
  within<T>(frame: Frame, fn: () => T, isNativeCall = false): T {
    if (!this.inStep() || (isNativeCall && this.stack[this.stack.length - 1] === 'optimizer')) return fn();
    this.charge(performance.now());
    this.stack.push(frame);
    try {
      return fn();
    } finally {
      this.charge(performance.now());
      this.stack.pop();
    }
  }

  /** A step begins: the time since the last step ended was spent waiting for its batch. */
  beginStep(): void {
    const now = performance.now();
    if (this.stepEnded >= 0) this.wall.set('data wait', (this.wall.get('data wait') ?? 0) + now - this.stepEnded);
    this.stack.push('other');
    this.stepSpans.push(now);
    this.mark = this.phaseMark = this.layerMark = now;
    this.phase = 'forward';
  }

  endStep(): void {
    const now = performance.now();
    this.charge(now);
    this.setPhase('other', now);
    this.stack.pop();
    this.steps++;
    this.stepEnded = now;
    this.stepSpans.push(now);
  }

  setPhase(phase: ProfilePhase, now = performance.now()): void {
    this.phaseMs.set(this.phase, (this.phaseMs.get(this.phase) ?? 0) + now - this.phaseMark);
    this.phase = phase;
    this.phaseMark = now;
  }

  private layerTime(layer: object): { forward: number; backward: number } {
    let t = this.layerTimes.get(layer);
    if (!t) this.layerTimes.set(layer, (t = { forward: 0, backward: 0 }));
    return t;
  }

  /** The innermost layer running forward, which tape nodes recorded now belong to. */
  currentLayer(): object | undefined {
    return this.layerStack[this.layerStack.length - 1];
  }

  /** Module.call: layer's forward runs in fn; its time minus its children's is its own. */
  forward<T>(layer: object, fn: () => T): T {
    if (!this.inStep()) return fn();
    const outer = this.currentLayer();
    let now = performance.now();
    if (outer) this.layerTime(outer).forward += now - this.layerMark;
    this.layerMark = now;
    this.layerStack.push(layer);
    try {
      return fn();
    } finally {
      now = performance.now();
      this.layerTime(layer).forward += now - this.layerMark;
      this.layerMark = now;
      this.layerStack.pop();
    }
  }

  /** The backward walk: one tape node's backward, charged to the layer that recorded it. */
  backward<T>(layer: object | undefined, fn: () => T): T {
    if (!layer || !this.inStep()) return fn();
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      this.layerTime(layer).backward += performance.now() - t0;
    }
  }

  /** GC pauses that began inside a step after the first WARM_STEPS. */
  private gcInSteps(): number {
    let total = 0, span = 2 * WARM_STEPS;
    const pauses = [...this.gcPauses].sort((a, b) => a.startTime - b.startTime);
    for (const e of pauses) {
      while (span < this.stepSpans.length && this.stepSpans[span + 1] < e.startTime) span += 2;
      if (span < this.stepSpans.length && this.stepSpans[span] <= e.startTime) total += e.duration;
    }
    return total;
  }

  private report(): ProfileReport {
    const steps = Math.max(1, this.steps);
    const steady = Math.max(1, this.steps - WARM_STEPS);
    const ms = (frame: Frame | 'data wait') => this.wall.get(frame) ?? 0;
    // The native timers split the convolution and GEMM calls' wall time; what they do not cover
    // (bias, depthwise and direct kernels, copies, threads waiting at barriers) stays "other".
    const conv = ms('conv');
    const gemm = Math.min(conv, this.native.gemmKernel);
    const packing = Math.min(conv - gemm, this.native.packing + this.native.im2col);
    const byCategory: Record<ProfileCategory, number> = {
      gemm, 'packing/im2col': packing, 'conv/gemm other': conv - gemm - packing, elementwise: ms('elementwise'), loss: ms('loss'),
      optimizer: ms('optimizer'), allocation: ms('allocation'), other: ms('other'), 'data wait': ms('data wait'),
    };
    const total = PROFILE_CATEGORIES.reduce((s, c) => s + byCategory[c], 0);
    const share = (v: number) => (total > 0 ? v / total : 0);
    const phases: ProfilePhase[] = ['forward', 'backward', 'optimizer', 'other'];
    const layers: LayerProfile[] = [];
    for (const [layer, t] of this.layerTimes) {
      const named = this.layerNames.get(layer) ?? { name: '(unnamed)', type: layer.constructor.name };
      layers.push({ ...named, forwardMs: t.forward / steps, backwardMs: t.backward / steps });
    }
    return {
      steps: this.steps,
      stepMs: total / steps,
      categories: PROFILE_CATEGORIES.map((name) => ({ name, ms: byCategory[name] / steps, share: share(byCategory[name]) })),
      phases: phases.map((name) => ({ name, ms: (this.phaseMs.get(name) ?? 0) / steps, share: share(this.phaseMs.get(name) ?? 0) })),
      gcMs: this.gcInSteps() / steady,
      allocations: this.allocations / steady,
      allocatedMb: this.allocatedBytes / steady / 2 ** 20,
      layers,
    };
  }
}

const fmt = (v: number, width: number, digits = 2) => v.toFixed(digits).padStart(width);
const pct = (v: number) => `${(100 * v).toFixed(1)}%`.padStart(7);

/** The table printed after a profiled run. */
export function formatProfile(r: ProfileReport): string {
  const lines = [
    `profile: ${r.steps} steps, ${r.stepMs.toFixed(2)} ms per step (data wait included); ${r.allocations.toFixed(1)} tensor allocations (${r.allocatedMb.toFixed(1)} MB) and ${r.gcMs.toFixed(2)} ms of GC pauses per step after the first two`,
    `phase       ms/step   share`,
    ...r.phases.map((p) => `${p.name.padEnd(10)} ${fmt(p.ms, 8)} ${pct(p.share)}`),
    `category          ms/step   share`,
    ...r.categories.map((c) => `${c.name.padEnd(16)} ${fmt(c.ms, 8)} ${pct(c.share)}`),
  ];
  if (r.layers.length) {
    const width = Math.max(5, ...r.layers.map((l) => l.name.length));
    const typeWidth = Math.max(4, ...r.layers.map((l) => l.type.length));
    lines.push(`${'layer'.padEnd(width)}  ${'type'.padEnd(typeWidth)}  forward ms  backward ms   share`);
    for (const l of r.layers) {
      lines.push(`${l.name.padEnd(width)}  ${l.type.padEnd(typeWidth)}  ${fmt(l.forwardMs, 10, 3)}  ${fmt(l.backwardMs, 11, 3)} ${pct(r.stepMs > 0 ? (l.forwardMs + l.backwardMs) / r.stepMs : 0)}`);
    }
  }
  return lines.join('\n');
}
