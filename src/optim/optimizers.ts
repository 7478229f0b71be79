// The optimizers `cnn train --optimizer NAME` knows: name → {options, build}. Each entry lists the
// option rows it reads (shared rows are one object, listed by every optimizer that reads them);
// adding an optimizer is one file and one entry here.
import type { Tensor } from '../tensor/tensor.js';
import type { ParamGroupInput } from './optimizer.js';
import { numberRow, listRow, switchRow, type ConfigFrom } from '../option-row.js';
import type { Optimizer } from './optimizer.js';
import { SGD } from './sgd.js';
import { Adam, AdamW } from './adam.js';

const group = 'optimizer';

export const OPTIMIZER_ROWS = {
  momentum: numberRow('momentum', '--momentum <x>', { default: 0.9, min: 0, max: 1, open: 'max', help: 'momentum factor', group }),
  nesterov: switchRow('nesterov', '--nesterov', { help: 'Nesterov momentum', group }),
  weightDecay: numberRow('weightDecay', '--weight-decay <x>', { default: 0, min: 0, help: 'L2 penalty (decoupled for adamw)', group }),
  betas: listRow<'betas', [number, number], [number, number]>('betas', '--betas <b1,b2>', {
    default: [0.9, 0.999], length: 2, min: 0, max: 0.999999999, expected: 'two numbers in [0, 1)', help: 'coefficients of the running averages', group,
  }),
  eps: numberRow('eps', '--eps <x>', { default: 1e-8, min: 0, open: 'min', help: 'term added to the denominator', group }),
} as const;

type Rows = typeof OPTIMIZER_ROWS;
type Values<K extends keyof Rows> = ConfigFrom<Rows[K][]> & { lr: number };

export interface OptimizerEntry<K extends keyof Rows> {
  description: string;
  /** The learning rate PyTorch examples use when none is given. */
  defaultLr: number;
  options: readonly Rows[K][];
  build(params: Tensor[] | ParamGroupInput[], o: Values<K>): Optimizer;
}

const entry = <K extends keyof Rows>(description: string, defaultLr: number, keys: readonly K[], build: (params: Tensor[] | ParamGroupInput[], o: Values<K>) => Optimizer): OptimizerEntry<K> =>
  ({ description, defaultLr, options: keys.map((k) => OPTIMIZER_ROWS[k]), build });

export const OPTIMIZERS = {
  sgd: entry('SGD with momentum (torch.optim.SGD)', 0.01, ['momentum', 'nesterov', 'weightDecay'],
    (params, o) => new SGD(params, { lr: o.lr, momentum: o.momentum, nesterov: o.nesterov, weightDecay: o.weightDecay })),
  adam: entry('Adam (torch.optim.Adam)', 1e-3, ['betas', 'eps', 'weightDecay'],
    (params, o) => new Adam(params, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay })),
  adamw: entry('AdamW, decoupled weight decay (torch.optim.AdamW)', 1e-3, ['betas', 'eps', 'weightDecay'],
    (params, o) => new AdamW(params, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay })),
} as const;

export type OptimizerName = keyof typeof OPTIMIZERS;
export const OPTIMIZER_NAMES = Object.keys(OPTIMIZERS) as OptimizerName[];

/** Builds the named optimizer from a config that holds every option row's value. */
export function buildOptimizer(name: OptimizerName, params: Tensor[] | ParamGroupInput[], o: Values<keyof Rows>): Optimizer {
  return (OPTIMIZERS[name] as OptimizerEntry<keyof Rows>).build(params, o);
}
