// Adam and AdamW (torch.optim.Adam / AdamW): bias-corrected moment estimates, optional AMSGrad;
// AdamW decays the weights directly instead of through the gradient.
import { Tensor } from '../tensor/tensor.js';
import { weightsChanged } from '../tensor/weights-generation.js';
import { native, getThreads } from '../tensor/native.js';
import { Optimizer, booleanOption, numberOption, type ParamGroupInput } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
  maximize?: boolean;
}

function betasOption(g: Record<string, unknown>): [number, number] {
  const b = g.betas;
  if (!Array.isArray(b) || b.length !== 2 || typeof b[0] !== 'number' || typeof b[1] !== 'number') {
    throw new TypeError(`expected betas to be a pair of numbers but received ${JSON.stringify(b)}`);
  }
  return [b[0], b[1]];
}

abstract class AdamBase extends Optimizer {
  protected abstract readonly decoupled: boolean;

  constructor(params: Tensor[] | ParamGroupInput[], o: AdamOptions, defaultWeightDecay: number) {
    super(params, {
      lr: o.lr ?? 1e-3, betas: o.betas ? [...o.betas] : [0.9, 0.999], eps: o.eps ?? 1e-8,
      weightDecay: o.weightDecay ?? defaultWeightDecay, amsgrad: o.amsgrad ?? false, maximize: o.maximize ?? false,
    });
  }

  protected override validateGroup(g: Record<string, unknown>): void {
    const lr = numberOption(g, 'lr');
    const eps = numberOption(g, 'eps');
    const [beta1, beta2] = betasOption(g);
    const weightDecay = numberOption(g, 'weightDecay');
    booleanOption(g, 'amsgrad');
    booleanOption(g, 'maximize');
    if (!(lr >= 0)) throw new RangeError(`Invalid learning rate: ${lr}`);
    if (!(eps >= 0)) throw new RangeError(`Invalid epsilon value: ${eps}`);
    if (!(beta1 >= 0 && beta1 < 1)) throw new RangeError(`Invalid beta parameter at index 0: ${beta1}`);
    if (!(beta2 >= 0 && beta2 < 1)) throw new RangeError(`Invalid beta parameter at index 1: ${beta2}`);
    if (!(weightDecay >= 0)) throw new RangeError(`Invalid weight_decay value: ${weightDecay}`);
  }

  step(): void {
    weightsChanged();
    const threads = getThreads();
    for (const g of this.paramGroups) {
      const [beta1, beta2] = betasOption(g);
      const amsgrad = booleanOption(g, 'amsgrad');
      const options = {
        lr: numberOption(g, 'lr'), beta1, beta2, eps: numberOption(g, 'eps'),
        weightDecay: numberOption(g, 'weightDecay'), step: 0, amsgrad, decoupled: this.decoupled,
        maximize: booleanOption(g, 'maximize'),
      };
      // Bias correction takes the step count: runs hold parameters at the same count.
      const stepCount = (p: Tensor) => this.state.get(p)?.step ?? 0;
      for (const run of this.updateRuns(g.params, stepCount)) {
        const expAvg = run.state('exp_avg');
        const expAvgSq = run.state('exp_avg_sq');
        const maxExpAvgSq = amsgrad ? run.state('max_exp_avg_sq') : null;
        for (const p of run.params) options.step = ++this.stateOf(p).step;
        native.adamStep(run.data, run.grad, { expAvg, expAvgSq, maxExpAvgSq }, options, threads);
      }
    }
  }
}

export class Adam extends AdamBase {
  protected readonly decoupled = false;

  constructor(params: Tensor[] | ParamGroupInput[], o: AdamOptions = {}) {
    super(params, o, 0);
  }
}

export class AdamW extends AdamBase {
  protected readonly decoupled = true;

  constructor(params: Tensor[] | ParamGroupInput[], o: AdamOptions = {}) {
    super(params, o, 1e-2);
  }
}
