// Cosine annealing restarted every tI steps, tI growing by tMult after each restart
// (torch.optim.lr_scheduler.CosineAnnealingWarmRestarts, SGDR).
import type { Optimizer } from './optimizer.js';
import { LRScheduler, positiveInteger, readNumber } from './scheduler.js';

export interface CosineAnnealingWarmRestartsOptions { t0: number; tMult?: number; etaMin?: number; lastEpoch?: number }

export class CosineAnnealingWarmRestarts extends LRScheduler {
  private t0: number;
  private tMult: number;
  private etaMin: number;
  /** The current cycle's length (T_i) and the steps into it (T_cur, fractional after stepToEpoch). */
  private tI: number;
  private tCur: number;

  constructor(optimizer: Optimizer, o: CosineAnnealingWarmRestartsOptions) {
    super(optimizer, o.lastEpoch ?? -1);
    this.t0 = positiveInteger(o.t0, 'T_0');
    const tMult = o.tMult ?? 1;
    if (!Number.isInteger(tMult) || tMult < 1) throw new RangeError(`Expected integer T_mult >= 1, but got ${tMult}`);
    this.tMult = tMult;
    this.etaMin = o.etaMin ?? 0;
    this.tI = this.t0;
    this.tCur = this.lastEpoch;
    this.initialStep();
  }

  protected getLr(): number[] {
    return this.baseLrs.map((base) => this.etaMin + (base - this.etaMin) * (1 + Math.cos(Math.PI * this.tCur / this.tI)) / 2);
  }

  override step(metric?: number): void {
    if (this.lastEpoch < 0) {
      this.stepToEpoch(0);
      return;
    }
    this.tCur += 1;
    if (this.tCur >= this.tI) {
      this.tCur -= this.tI;
      this.tI *= this.tMult;
    }
    this.lastEpoch += 1;
    this.apply(this.getLr());
  }

  /** Jumps to a (possibly fractional) epoch, e.g. epoch + batch / batches for per-batch updates. */
  override stepToEpoch(epoch: number): void {
    if (typeof epoch !== 'number' || !Number.isFinite(epoch) || epoch < 0) {
      throw new RangeError(`Expected non-negative epoch, but got ${epoch}`);
    }
    if (epoch >= this.t0) {
      if (this.tMult === 1) {
        this.tCur = epoch % this.t0;
      } else {
        const n = Math.trunc(Math.log(epoch / this.t0 * (this.tMult - 1) + 1) / Math.log(this.tMult));
        this.tCur = epoch - this.t0 * (this.tMult ** n - 1) / (this.tMult - 1);
        this.tI = this.t0 * this.tMult ** n;
      }
    } else {
      this.tI = this.t0;
      this.tCur = epoch;
    }
    this.lastEpoch = Math.floor(epoch);
    this.apply(this.getLr());
  }

  override stateDict(): Record<string, unknown> {
    return { ...super.stateDict(), t0: this.t0, tMult: this.tMult, etaMin: this.etaMin, tI: this.tI, tCur: this.tCur };
  }

  override loadStateDict(s: Record<string, unknown>): void {
    const t0 = positiveInteger(readNumber(s, 't0'), 'T_0');
    const tMult = readNumber(s, 'tMult');
    const etaMin = readNumber(s, 'etaMin');
    const tI = readNumber(s, 'tI');
    const tCur = readNumber(s, 'tCur');
    super.loadStateDict(s);
    Object.assign(this, { t0, tMult, etaMin, tI, tCur });
  }
}
