// Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (torch.optim.SGD).
import { Tensor } from '../tensor/tensor.js';
import { weightsChanged } from '../tensor/weights-generation.js';
import { native, getThreads } from '../tensor/native.js';
import { Optimizer, booleanOption, numberOption, type ParamGroupInput } from './optimizer.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
  maximize?: boolean;
}

export class SGD extends Optimizer {
  constructor(params: Tensor[] | ParamGroupInput[], o: SgdOptions) {
    const defaults: Record<string, unknown> = {
      momentum: o.momentum ?? 0, dampening: o.dampening ?? 0, weightDecay: o.weightDecay ?? 0,
      nesterov: o.nesterov ?? false, maximize: o.maximize ?? false,
    };
    // lr is required: a group may supply it when the defaults do not.
    if (o.lr !== undefined) defaults.lr = o.lr;
    super(params, defaults);
  }

  protected override validateGroup(g: Record<string, unknown>): void {
    const lr = numberOption(g, 'lr');
    const momentum = numberOption(g, 'momentum');
    const dampening = numberOption(g, 'dampening');
    const weightDecay = numberOption(g, 'weightDecay');
    const nesterov = booleanOption(g, 'nesterov');
    booleanOption(g, 'maximize');
    if (!(lr >= 0)) throw new RangeError(`Invalid learning rate: ${lr}`);
    if (!(momentum >= 0)) throw new RangeError(`Invalid momentum value: ${momentum}`);
    if (!(weightDecay >= 0)) throw new RangeError(`Invalid weight_decay value: ${weightDecay}`);
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      throw new RangeError('Nesterov momentum requires a momentum and zero dampening');
    }
  }

  step(): void {
    weightsChanged();
    const threads = getThreads();
    for (const g of this.paramGroups) {
      const momentum = numberOption(g, 'momentum');
      const options = {
        lr: numberOption(g, 'lr'), momentum, dampening: numberOption(g, 'dampening'), weightDecay: numberOption(g, 'weightDecay'),
        nesterov: booleanOption(g, 'nesterov'), maximize: booleanOption(g, 'maximize'), newBuffer: false,
      };
      // A parameter's first step with momentum starts its buffer from the gradient: runs keep those apart.
      const hasBuffer = (p: Tensor) => (this.state.get(p)?.buffers.has('momentum_buffer') ? 1 : 0);
      for (const run of this.updateRuns(g.params, hasBuffer)) {
        options.newBuffer = momentum !== 0 && !run.hadState('momentum_buffer');
        native.sgdStep(run.data, run.grad, momentum !== 0 ? run.state('momentum_buffer') : null, options, threads);
      }
    }
  }
}
