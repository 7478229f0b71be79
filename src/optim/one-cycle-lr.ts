// The 1cycle policy (torch.optim.lr_scheduler.OneCycleLR): lr rises from maxLr/divFactor to
// maxLr, then anneals to initialLr/finalDivFactor (with threePhase, back to initialLr first);
// momentum (SGD's momentum or Adam's beta1) cycles the opposite way.
import { setInitialLr, type Optimizer, type ParamGroup } from './optimizer.js';
import { LRScheduler, perGroup, positiveInteger, readBoolean, readNumber, readString } from './scheduler.js';

export type AnnealStrategy = 'cos' | 'linear';

export interface OneCycleLROptions {
  maxLr: number | number[];
  /** Or epochs × stepsPerEpoch. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  pctStart?: number;
  annealStrategy?: AnnealStrategy;
  cycleMomentum?: boolean;
  baseMomentum?: number | number[];
  maxMomentum?: number | number[];
  divFactor?: number;
  finalDivFactor?: number;
  threePhase?: boolean;
  lastEpoch?: number;
}

/** One phase: the step it ends at and the group keys it anneals between. */
interface Phase {
  endStep: number;
  startLr: string; endLr: string;
  startMomentum: string; endMomentum: string;
}

function phases(totalSteps: number, pctStart: number, threePhase: boolean): Phase[] {
  if (threePhase) {
    return [
      { endStep: pctStart * totalSteps - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
      { endStep: 2 * pctStart * totalSteps - 2, startLr: 'maxLr', endLr: 'initialLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
      { endStep: totalSteps - 1, startLr: 'initialLr', endLr: 'minLr', startMomentum: 'maxMomentum', endMomentum: 'maxMomentum' },
    ];
  }
  return [
    { endStep: pctStart * totalSteps - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
    { endStep: totalSteps - 1, startLr: 'maxLr', endLr: 'minLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
  ];
}

function anneal(strategy: AnnealStrategy, start: number, end: number, pct: number): number {
  if (strategy === 'cos') return end + (start - end) / 2 * (Math.cos(Math.PI * pct) + 1);
  return (end - start) * pct + start;
}

function groupNumber(g: ParamGroup, key: string): number {
  const v = g[key];
  if (typeof v !== 'number') throw new TypeError(`OneCycleLR: parameter group has no number ${key}`);
  return v;
}

interface Settings {
  totalSteps: number; pctStart: number; annealStrategy: AnnealStrategy; threePhase: boolean;
  cycleMomentum: boolean; useBeta1: boolean;
}

function settle(optimizer: Optimizer, o: OneCycleLROptions): Settings {
  let totalSteps: number;
  if (o.totalSteps === undefined && o.epochs === undefined && o.stepsPerEpoch === undefined) {
    throw new Error('You must define either total_steps OR (epochs AND steps_per_epoch)');
  } else if (o.totalSteps !== undefined) {
    totalSteps = positiveInteger(o.totalSteps, 'total_steps');
  } else {
    totalSteps = positiveInteger(o.epochs, 'epochs') * positiveInteger(o.stepsPerEpoch, 'steps_per_epoch');
  }
  const pctStart = o.pctStart ?? 0.3;
  if (typeof pctStart !== 'number' || !(pctStart >= 0 && pctStart <= 1)) {
    throw new RangeError(`Expected float between 0 and 1 pct_start, but got ${pctStart}`);
  }
  const annealStrategy = o.annealStrategy ?? 'cos';
  if (annealStrategy !== 'cos' && annealStrategy !== 'linear') {
    throw new RangeError(`anneal_strategy must by one of 'cos' or 'linear', instead got ${String(annealStrategy)}`);
  }
  const cycleMomentum = o.cycleMomentum ?? true;
  const useBeta1 = 'betas' in optimizer.defaults;
  if (cycleMomentum && !('momentum' in optimizer.defaults) && !useBeta1) {
    throw new Error('optimizer must support momentum with `cycle_momentum` option enabled');
  }
  return { totalSteps, pctStart, annealStrategy, threePhase: o.threePhase ?? false, cycleMomentum, useBeta1 };
}

function setMomentum(g: ParamGroup, useBeta1: boolean, m: number): void {
  if (useBeta1) {
    const betas = g.betas as number[];
    g.betas = [m, ...betas.slice(1)];
  } else {
    g.momentum = m;
  }
}

export class OneCycleLR extends LRScheduler {
  private s: Settings;
  private phases: Phase[];

  constructor(optimizer: Optimizer, o: OneCycleLROptions) {
    super(optimizer, OneCycleLR.prepareGroups(optimizer, o));
    this.s = settle(optimizer, o);
    this.phases = phases(this.s.totalSteps, this.s.pctStart, this.s.threePhase);
    this.initialStep();
  }

  // Runs before the base constructor reads initialLr, as PyTorch sets the groups before super().__init__.
  private static prepareGroups(optimizer: Optimizer, o: OneCycleLROptions): number {
    const s = settle(optimizer, o);
    const lastEpoch = o.lastEpoch ?? -1;
    const divFactor = o.divFactor ?? 25;
    const finalDivFactor = o.finalDivFactor ?? 1e4;
    const maxLrs = perGroup(optimizer, 'max_lr', o.maxLr);
    const maxMomentums = perGroup(optimizer, 'max_momentum', o.maxMomentum ?? 0.95);
    const baseMomentums = perGroup(optimizer, 'base_momentum', o.baseMomentum ?? 0.85);
    if (lastEpoch === -1) {
      optimizer.paramGroups.forEach((g, i) => {
        setInitialLr(g, maxLrs[i] / divFactor);
        g.maxLr = maxLrs[i];
        g.minLr = g.initialLr / finalDivFactor;
        if (s.cycleMomentum) {
          setMomentum(g, s.useBeta1, maxMomentums[i]);
          g.maxMomentum = maxMomentums[i];
          g.baseMomentum = baseMomentums[i];
        }
      });
    }
    return lastEpoch;
  }

  protected getLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.s.totalSteps) {
      throw new RangeError(`Tried to step ${stepNum + 1} times. The specified number of total steps is ${this.s.totalSteps}`);
    }
    return this.optimizer.paramGroups.map((g) => {
      let startStep = 0;
      for (let i = 0; i < this.phases.length; i++) {
        const phase = this.phases[i];
        if (stepNum <= phase.endStep || i === this.phases.length - 1) {
          const pct = (stepNum - startStep) / (phase.endStep - startStep);
          const lr = anneal(this.s.annealStrategy, groupNumber(g, phase.startLr), groupNumber(g, phase.endLr), pct);
          if (this.s.cycleMomentum) {
            const m = anneal(this.s.annealStrategy, groupNumber(g, phase.startMomentum), groupNumber(g, phase.endMomentum), pct);
            setMomentum(g, this.s.useBeta1, m);
          }
          return lr;
        }
        startStep = phase.endStep;
      }
      throw new Error('unreachable: the last phase always matches');
    });
  }

  override stateDict(): Record<string, unknown> {
    return { ...super.stateDict(), ...this.s };
  }

  override loadStateDict(s: Record<string, unknown>): void {
    const annealStrategy = readString(s, 'annealStrategy');
    if (annealStrategy !== 'cos' && annealStrategy !== 'linear') throw new RangeError(`unknown anneal_strategy ${annealStrategy}`);
    const settings: Settings = {
      totalSteps: positiveInteger(readNumber(s, 'totalSteps'), 'total_steps'), pctStart: readNumber(s, 'pctStart'),
      annealStrategy, threePhase: readBoolean(s, 'threePhase'), cycleMomentum: readBoolean(s, 'cycleMomentum'),
      useBeta1: readBoolean(s, 'useBeta1'),
    };
    super.loadStateDict(s);
    this.s = settings;
    this.phases = phases(settings.totalSteps, settings.pctStart, settings.threePhase);
  }
}
