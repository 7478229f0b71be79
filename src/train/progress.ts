// What a training run tells its user: a progress bar in a terminal, plain lines elsewhere,
// or one JSON event per line.
import cliProgress from 'cli-progress';
import { formatProfile, type ProfileReport } from '../tensor/profile.js';

export interface RunInfo {
  model: string;
  dataset: string;
  trainCount: number;
  valCount: number;
  valSource: string;
  epochs: number;
  startEpoch: number;
  batches: number;
  out: string;
  params: number;
  /** Parameters the optimizer steps (fewer than params with a frozen backbone). */
  trainableParams: number;
  /** What --init loaded and skipped, as a sentence. */
  init?: string;
  /** Image files: whether decoded images stay in memory, as a phrase. */
  data?: string;
  /** Data-parallel runs: the ranks and the batch each takes per step. */
  ranks?: number;
  batchSize?: number;
  threads: number;
}

export interface BatchProgress {
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
  imagesPerSec: number;
  lr: number;
  etaSeconds: number;
}

export interface EpochResult {
  epoch: number;
  epochs: number;
  trainLoss: number;
  trainAcc: number;
  valLoss: number;
  valAcc: number;
  /** null where top-5 says nothing (5 classes or fewer). */
  valTop5: number | null;
  lr: number;
  seconds: number;
  imagesPerSec: number;
  best: boolean;
}

export interface TrainReporter {
  start(info: RunInfo): void;
  batch(p: BatchProgress): void;
  epoch(r: EpochResult): void;
  checkpoint(path: string, kind: 'last' | 'best'): void;
  /** A message worth a line of its own (early stop, interruption). */
  note(message: string): void;
  done(summary: { bestAcc: number; bestEpoch: number; out: string; stopped: 'completed' | 'early-stopped' | 'interrupted' }): void;
  /** --profile: where the training steps' time went, after the run. */
  profile(report: ProfileReport): void;
}

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

function epochLine(r: EpochResult): string {
  return `epoch ${r.epoch}/${r.epochs}  train loss ${r.trainLoss.toFixed(4)} acc ${pct(r.trainAcc)}  ` +
    `val loss ${r.valLoss.toFixed(4)} top-1 ${pct(r.valAcc)}${r.valTop5 === null ? '' : ` top-5 ${pct(r.valTop5)}`}  ` +
    `lr ${r.lr.toPrecision(3)}  ${r.seconds.toFixed(1)}s  ${Math.round(r.imagesPerSec)} img/s${r.best ? '  * best' : ''}`;
}

function startLine(i: RunInfo): string {
  const n = (v: number) => v.toLocaleString('en-US');
  return `training ${i.model} (${n(i.trainableParams)} of ${n(i.params)} parameters trainable) on ${i.dataset}: ${i.trainCount} images, ` +
    `validating on ${i.valCount} (${i.valSource}); ${i.data ? `${i.data}; ` : ''}${i.ranks ? `${i.ranks} ranks × ${i.threads} thread${i.threads === 1 ? '' : 's'}, batch ${i.batchSize} per rank = global batch ${i.ranks * i.batchSize!}` : `${i.threads} thread${i.threads === 1 ? '' : 's'}`}; run folder ${i.out}${i.init ? `\n${i.init}` : ''}`;
}

type DoneSummary = { bestAcc: number; bestEpoch: number; out: string };

function doneLine(s: DoneSummary): string {
  if (s.bestEpoch === 0) return `no epoch finished; the run folder is ${s.out}`;
  return `best val top-1 ${pct(s.bestAcc)} at epoch ${s.bestEpoch}; checkpoints and metrics in ${s.out}`;
}

/** A cli-progress bar per epoch, then one summary line. */
export class TtyReporter implements TrainReporter {
  private bar: cliProgress.SingleBar | null = null;

  start(i: RunInfo): void {
    console.log(startLine(i));
  }

  batch(p: BatchProgress): void {
    const payload = { ep: p.epoch, loss: p.loss.toFixed(4), acc: pct(p.accuracy), ips: Math.round(p.imagesPerSec), lr: p.lr.toPrecision(3), eta: Math.round(p.etaSeconds) };
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar({
        format: 'epoch {ep} [{bar}] {value}/{total} | loss {loss} | acc {acc} | {ips} img/s | lr {lr} | ETA {eta}s',
        barsize: 24, hideCursor: true, clearOnComplete: true, stream: process.stdout,
      }, cliProgress.Presets.shades_classic);
      this.bar.start(p.batches, p.batch, payload);
    } else {
      this.bar.update(p.batch, payload);
    }
  }

  private closeBar(): void {
    this.bar?.stop();
    this.bar = null;
  }

  epoch(r: EpochResult): void {
    this.closeBar();
    console.log(epochLine(r));
  }

  checkpoint(): void {}

  note(message: string): void {
    this.closeBar();
    console.log(message);
  }

  done(s: DoneSummary): void {
    this.closeBar();
    console.log(doneLine(s));
  }

  profile(r: ProfileReport): void {
    this.closeBar();
    console.log(formatProfile(r));
  }
}

/** No terminal (or CI=true): a line per epoch and one at each 10% of an epoch. */
export class PlainReporter implements TrainReporter {
  private lastDecile = 0;

  start(i: RunInfo): void {
    console.log(startLine(i));
  }

  batch(p: BatchProgress): void {
    const decile = Math.floor((10 * p.batch) / p.batches);
    if (p.batch === 1) this.lastDecile = 0;
    if (decile > this.lastDecile && p.batch < p.batches) {
      this.lastDecile = decile;
      console.log(`epoch ${p.epoch} ${decile * 10}%  loss ${p.loss.toFixed(4)} acc ${pct(p.accuracy)}  ${Math.round(p.imagesPerSec)} img/s  ETA ${Math.round(p.etaSeconds)}s`);
    }
  }

  epoch(r: EpochResult): void {
    console.log(epochLine(r));
  }

  checkpoint(): void {}

  note(message: string): void {
    console.log(message);
  }

  done(s: DoneSummary): void {
    console.log(doneLine(s));
  }

  profile(r: ProfileReport): void {
    console.log(formatProfile(r));
  }
}

/** --json: one event per line. */
export class JsonReporter implements TrainReporter {
  private emit(event: string, body: object): void {
    console.log(JSON.stringify({ event, ...body }));
  }

  start(i: RunInfo): void { this.emit('start', i); }
  batch(): void {}
  epoch(r: EpochResult): void { this.emit('epoch', r); }
  checkpoint(path: string, kind: 'last' | 'best'): void { this.emit('checkpoint', { path, kind }); }
  note(message: string): void { this.emit('note', { message }); }
  done(s: object): void { this.emit('done', s); }
  profile(r: ProfileReport): void { this.emit('profile', r); }
}

/** Silent (--quiet, and programs). */
export class QuietReporter implements TrainReporter {
  start(): void {}
  batch(): void {}
  epoch(): void {}
  checkpoint(): void {}
  note(): void {}
  done(): void {}
  profile(): void {}
}
