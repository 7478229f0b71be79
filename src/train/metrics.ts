// Classification metrics: running loss/accuracy, top-k, and a confusion matrix with
// per-class precision, recall and F1 (as sklearn's classification_report).
import { Tensor } from '../tensor/tensor.js';

/** Running sums over batches; averages weight every sample equally. */
export class RunningMetrics {
  private lossSum = 0;
  private top1 = 0;
  private top5 = 0;
  count = 0;

  add(loss: number, batchSize: number, top1: number, top5 = 0): void {
    this.lossSum += loss * batchSize;
    this.top1 += top1;
    this.top5 += top5;
    this.count += batchSize;
  }

  /** [loss·n, top-1, top-5, n]: what the ranks of a data-parallel run add up. */
  sums(): Float64Array {
    return Float64Array.of(this.lossSum, this.top1, this.top5, this.count);
  }

  setSums(s: ArrayLike<number>): void {
    [this.lossSum, this.top1, this.top5, this.count] = [s[0], s[1], s[2], s[3]];
  }

  get loss(): number {
    return this.count ? this.lossSum / this.count : NaN;
  }

  get accuracy(): number {
    return this.count ? this.top1 / this.count : NaN;
  }

  get top5Accuracy(): number {
    return this.count ? this.top5 / this.count : NaN;
  }
}

/** argmax of each row of N×C logits. */
export function predictions(logits: Tensor): Int32Array {
  const [n, c] = logits.shape;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (logits.data[i * c + j] > logits.data[i * c + best]) best = j;
    out[i] = best;
  }
  return out;
}

export interface ClassReport {
  name: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** sklearn's classification_report averages: the unweighted mean over classes, and the mean weighted by support. */
export interface AverageReport {
  macro: Omit<ClassReport, 'name'>;
  weighted: Omit<ClassReport, 'name'>;
}

export function averageReports(classes: readonly ClassReport[]): AverageReport {
  const total = classes.reduce((s, c) => s + c.support, 0);
  const mean = (weight: (c: ClassReport) => number, norm: number) => {
    const avg = (key: 'precision' | 'recall' | 'f1') => (norm > 0 ? classes.reduce((s, c) => s + weight(c) * c[key], 0) / norm : 0);
    return { precision: avg('precision'), recall: avg('recall'), f1: avg('f1'), support: total };
  };
  return { macro: mean(() => 1, classes.length), weighted: mean((c) => c.support, total) };
}

export class ConfusionMatrix {
  /** counts[true][predicted] */
  readonly counts: number[][];

  constructor(readonly classes: string[]) {
    this.counts = classes.map(() => new Array<number>(classes.length).fill(0));
  }

  add(truth: ArrayLike<number>, predicted: ArrayLike<number>): void {
    for (let i = 0; i < truth.length; i++) this.counts[truth[i]][predicted[i]]++;
  }

  /** Per class; a class never predicted (or never present) has precision (recall) 0, as sklearn's zero_division=0. */
  report(): ClassReport[] {
    return this.classes.map((name, k) => {
      const tp = this.counts[k][k];
      const support = this.counts[k].reduce((a, b) => a + b, 0);
      const predicted = this.counts.reduce((s, row) => s + row[k], 0);
      const precision = predicted ? tp / predicted : 0;
      const recall = support ? tp / support : 0;
      const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
      return { name, precision, recall, f1, support };
    });
  }
}
