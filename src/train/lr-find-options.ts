// The options of `cnn lr-find`: `cnn train`'s rows that mean something to a sweep, then the
// sweep's own (steps, lr range, the PNG).
import { numberRow, textRow, type ConfigFrom } from '../option-row.js';
import { TRAIN_OPTIONS, type TrainConfig } from './options.js';

/** Training options a sweep has no use for: it sets the lr itself, trains one short stretch and writes nothing. */
export const NOT_FOR_LR_FIND: ReadonlySet<string> = new Set([
  'epochs', 'lr', 'backboneLr', 'out', 'resume', 'overwrite', 'patience', 'valSplit', 'allowNonFinite', 'unfreezeAt', 'syncBn',
  'ema', 'emaEval', 'accumSteps',
]);

export const SWEEP_ROWS = [
  numberRow('steps', '--steps <n>', { integer: true, min: 8, max: 1e6, default: 100, help: 'batches in the sweep (fewer when the loss diverges)', group: 'sweep' }),
  numberRow('startLr', '--start-lr <x>', { min: 0, open: 'min', default: 1e-7, help: 'the learning rate of the first batch', group: 'sweep' }),
  numberRow('endLr', '--end-lr <x>', { min: 0, open: 'min', default: 10, help: 'the learning rate the sweep rises towards (batch i of n trains at start·(end/start)^(i/n))', group: 'sweep' }),
  textRow('out', '--out <file>', { defaultText: '<model>-<dataset>-lr-find.png', help: 'where to write the loss curve (PNG)', group: 'sweep' }),
] as const;

/** The options of `cnn lr-find`: the training rows that apply, then the sweep's own. */
export const LR_FIND_OPTIONS = [
  ...TRAIN_OPTIONS.filter((r) => r.group !== 'scheduler' && !NOT_FOR_LR_FIND.has(r.key)),
  ...SWEEP_ROWS,
];

export type SweepConfig = ConfigFrom<typeof SWEEP_ROWS>;
export type LrFindConfig = Partial<TrainConfig> & Partial<SweepConfig>;
