// Classification losses, as torch.nn.functional.cross_entropy / nll_loss with class-index
// targets, plus top-k accuracy for metrics. The log-softmax and NLL run fused in the addon.
import { emptyFloat32, zeroFloat32 } from './storage.js';
import { native, getThreads, type LossParams } from './native.js';
import { record } from './ops.js';
import { Tensor, formatShape } from './tensor.js';

export type Reduction = 'mean' | 'sum' | 'none';

export interface CrossEntropyOptions {
  /** Per-class rescaling weights (C). */
  weight?: Tensor;
  /** ε in [0, 1]: the target becomes (1-ε)·onehot + ε/C. */
  labelSmoothing?: number;
  reduction?: Reduction;
  /** Rows with this target contribute nothing (and do not count in the mean). */
  ignoreIndex?: number;
}

export type NllLossOptions = Omit<CrossEntropyOptions, 'labelSmoothing'>;

const REDUCTIONS: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

interface Checked {
  params: LossParams;
  outShape: number[];
}

/**
 * A private copy of the targets (the backward pass must not see later changes by the caller),
 * each a class index in [0, c) or ignoreIndex.
 */
function readTargets(op: string, target: Int32Array | readonly number[], c: number, ignoreIndex: number | null): Int32Array {
  const t = new Int32Array(target.length);
  for (let i = 0; i < target.length; i++) {
    const v = target[i];
    if (!Number.isInteger(v) || (v !== ignoreIndex && (v < 0 || v >= c))) {
      throw new RangeError(`${op}: Target ${v} is out of bounds (index ${i}, ${c} classes)`);
    }
    t[i] = v;
  }
  return t;
}

function checkArgs(op: string, input: Tensor, target: Int32Array | readonly number[],
  o: CrossEntropyOptions): Checked {
  if (input.ndim !== 2) throw new RangeError(`${op}: expected input of shape (N, C) but got ${formatShape(input.shape)}`);
  const [n, c] = input.shape;
  if (c < 1) throw new RangeError(`${op}: expected at least one class but got ${formatShape(input.shape)}`);
  if (target.length !== n) {
    throw new RangeError(`${op}: Expected input batch_size (${n}) to match target batch_size (${target.length})`);
  }
  const ignoreIndex = o.ignoreIndex ?? -100;
  if (!Number.isInteger(ignoreIndex) || Math.abs(ignoreIndex) > 2 ** 31 - 1) {
    throw new RangeError(`${op}: ignoreIndex must be a 32-bit integer but is ${ignoreIndex}`);
  }
  const t = readTargets(op, target, c, ignoreIndex);
  if (o.weight && (o.weight.ndim !== 1 || o.weight.shape[0] !== c)) {
    throw new RangeError(`${op}: weight tensor should be defined either for all ${c} classes or no classes but got weight tensor of shape: ${formatShape(o.weight.shape)}`);
  }
  const labelSmoothing = o.labelSmoothing ?? 0;
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
    throw new RangeError(`${op}: label_smoothing must be between 0.0 and 1.0. Got: ${labelSmoothing}`);
  }
  const reductionName = o.reduction ?? 'mean';
  const reduction = REDUCTIONS[reductionName];
  if (reduction === undefined) throw new RangeError(`${op}: ${String(reductionName)} is not a valid value for reduction`);
  return {
    params: { input: input.data, n, c, target: t, weight: o.weight?.data ?? null, labelSmoothing, ignoreIndex, reduction },
    outShape: reduction === 0 ? [n] : [],
  };
}

/** torch.nn.functional.cross_entropy(logits, target, weight, ignore_index, reduction, label_smoothing) for logits (N, C). */
export function crossEntropy(logits: Tensor, target: Int32Array | readonly number[], o: CrossEntropyOptions = {}): Tensor {
  const a = checkArgs('crossEntropy', logits, target, o);
  const out = zeroFloat32(a.params.reduction === 0 ? a.params.n : 1);
  const lse = zeroFloat32(a.params.n);
  native.crossEntropyForward(a.params, out, lse, getThreads());
  return record(new Tensor(out, a.outShape), 'crossEntropy', [logits], (g) => {
    const dx = emptyFloat32(logits.size);
    native.crossEntropyBackward(a.params, lse, g.data, dx, getThreads());
    return [new Tensor(dx, logits.shape)];
  });
}

/** torch.nn.functional.nll_loss over log-probabilities (N, C). */
export function nllLoss(logProbs: Tensor, target: Int32Array | readonly number[], o: NllLossOptions = {}): Tensor {
  const a = checkArgs('nllLoss', logProbs, target, o);
  const out = zeroFloat32(a.params.reduction === 0 ? a.params.n : 1);
  native.nllLossForward(a.params, out);
  return record(new Tensor(out, a.outShape), 'nllLoss', [logProbs], (g) => {
    const dx = emptyFloat32(logProbs.size);
    native.nllLossBackward(a.params, g.data, dx);
    return [new Tensor(dx, logProbs.shape)];
  });
}

/**
 * How many rows of logits (N, C) have their target among the k largest logits (no gradient).
 * A target tied with the k-th largest counts as correct.
 */
export function accuracyTopK(logits: Tensor, target: Int32Array | readonly number[], k: number): number {
  if (logits.ndim !== 2) throw new RangeError(`accuracyTopK: expected logits of shape (N, C) but got ${formatShape(logits.shape)}`);
  const [n, c] = logits.shape;
  if (!Number.isInteger(k) || k < 1 || k > c) throw new RangeError(`accuracyTopK: k must be an integer in [1, ${c}] but is ${k}`);
  if (target.length !== n) throw new RangeError(`accuracyTopK: ${n} rows of logits but ${target.length} targets`);
  return native.accuracyTopK(logits.data, n, c, readTargets('accuracyTopK', target, c, null), k, getThreads());
}
