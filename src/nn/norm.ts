import { Tensor } from '../tensor/tensor.js';
import { batchNorm } from '../tensor/norm.js';
import { Module } from './module.js';
import { positiveInt } from './options.js';
import { activeProfiler } from '../tensor/profile.js';
import type { NormActivation } from '../tensor/native.js';

export interface BatchNormOptions {
  numFeatures: number;
  eps?: number;
  /** null: a cumulative moving average (PyTorch's momentum=None). */
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
}

/** Batch normalization over axis 1; running variance is unbiased, eval uses running stats. */
abstract class BatchNormBase extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  weight: Tensor | null;
  bias: Tensor | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  readonly numBatchesTracked: Tensor | null;

  protected abstract checkInput(x: Tensor): void;

  constructor(o: BatchNormOptions) {
    super();
    this.numFeatures = positiveInt(o.numFeatures, 'numFeatures');
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum === undefined ? 0.1 : o.momentum;
    this.affine = o.affine ?? true;
    this.trackRunningStats = o.trackRunningStats ?? true;
    const c = this.numFeatures;
    this.weight = this.registerParameter('weight', this.affine ? Tensor.ones([c]) : null);
    this.bias = this.registerParameter('bias', this.affine ? Tensor.zeros([c]) : null);
    this.runningMean = this.registerBuffer('running_mean', this.trackRunningStats ? Tensor.zeros([c]) : null);
    this.runningVar = this.registerBuffer('running_var', this.trackRunningStats ? Tensor.ones([c]) : null);
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', this.trackRunningStats ? Tensor.scalar(0) : null, { int64: true });
  }

  forward(x: Tensor): Tensor {
    return this.normalize(x);
  }

  /**
   * Whether a fused caller (BatchNorm → activation, BatchNorm → add → activation) may normalize
   * through this layer's own kernel: no hook observes it, and its forward is the class's, not one
   * replaced on the instance (SyncBatchNorm's, which shares the statistics across ranks).
   */
  fusable(): boolean {
    return !this.hasHooks() && !Object.prototype.hasOwnProperty.call(this, 'forward');
  }

  /**
   * relu(this(x)) or relu6(this(x)) as one native pass forward and one backward, for a ReLU/ReLU6
   * that follows this layer and that no hook observes (runLayers checks): the intermediate tensor
   * is never allocated.
   */
  callWithActivation(x: Tensor, activation: NormActivation): Tensor {
    return this.callFused(x, activation);
  }

  /**
   * activation(this(x) + residual) (activation optional: ReLU/ReLU6) in one native pass forward and
   * one backward: a residual block's tail in training, for layers no hook observes (runResidual
   * checks). Neither the normalized tensor nor the sum is allocated.
   */
  callWithResidual(x: Tensor, residual: Tensor, activation?: NormActivation): Tensor {
    return this.callFused(x, activation, residual);
  }

  private callFused(x: Tensor, activation?: NormActivation, residual?: Tensor): Tensor {
    const profiler = activeProfiler();
    return profiler ? profiler.forward(this, () => this.normalize(x, activation, residual)) : this.normalize(x, activation, residual);
  }

  private normalize(x: Tensor, activation?: NormActivation, residual?: Tensor): Tensor {
    this.checkInput(x);
    if (x.shape[1] !== this.numFeatures) {
      throw new RangeError(`running_mean should contain ${x.shape[1]} elements not ${this.numFeatures}`);
    }
    let factor = this.momentum ?? 0;
    if (this.training && this.numBatchesTracked) {
      this.numBatchesTracked.data[0] += 1;
      if (this.momentum === null) factor = 1 / this.numBatchesTracked.data[0];
    }
    const useRunning = !this.training || this.trackRunningStats;
    return batchNorm(x, this.weight, this.bias, {
      runningMean: useRunning ? this.runningMean : null,
      runningVar: useRunning ? this.runningVar : null,
      training: this.training || this.runningMean === null,
      momentum: factor,
      eps: this.eps,
      ...(activation ? { activation } : {}),
      ...(residual ? { residual } : {}),
    });
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum ?? 'None'}, affine=${this.affine ? 'True' : 'False'}, track_running_stats=${this.trackRunningStats ? 'True' : 'False'}`;
  }
}

export class BatchNorm2d extends BatchNormBase {
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 4) throw new RangeError(`expected 4D input (got ${x.ndim}D input)`);
  }
}

export class BatchNorm1d extends BatchNormBase {
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) throw new RangeError(`expected 2D or 3D input (got ${x.ndim}D input)`);
  }
}
