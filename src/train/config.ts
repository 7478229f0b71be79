// A training run's options resolved and checked before any work starts: the defaults and the
// per-value checks come from the rows of options.ts; what is left here are the checks that
// involve two options.
import { ConfigError } from '../errors.js';
import { checkRow, flagName } from '../option-row.js';
import { OPTIMIZERS } from '../optim/optimizers.js';
import { modelTakesStem } from '../models/registry.js';
import { TRAIN_OPTIONS, DEFAULT_CONFIG, CHOICE_ROWS, rowsOf, usedBy, type TrainConfig } from './options.js';

export { ConfigError };
export { DEFAULT_CONFIG, type TrainConfig };

function check(ok: boolean, message: string, option: string): void {
  if (!ok) throw new ConfigError(message, option);
}

/** Options that only matter together. */
function checkCombinations(c: TrainConfig, given: Partial<TrainConfig>): void {
  check(c.threads === undefined || (Number.isInteger(c.threads) && c.threads >= 1 && c.threads <= 1024),
    `Expected an integer between 1 and 1024 for --threads but received ${c.threads}`, '--threads');
  check(!c.nesterov || (c.optimizer === 'sgd' && c.momentum > 0), '--nesterov needs --optimizer sgd with a --momentum above 0', '--nesterov');
  check(c.warmupEpochs < c.epochs, `Expected --warmup-epochs between 0 and epochs − 1 (${c.epochs - 1}) but received ${c.warmupEpochs}`, '--warmup-epochs');
  check(!(c.warmupEpochs > 0 && c.scheduler === 'onecycle'), '--warmup-epochs does not combine with --scheduler onecycle (it warms up by itself)', '--warmup-epochs');
  check(c.scheduler !== 'multistep' || c.milestones.length > 0, '--scheduler multistep needs --milestones, e.g. --milestones 30,60', '--milestones');
  check(c.stem === undefined || modelTakesStem(c.model), `--stem applies to ResNets only, not ${c.model}`, '--stem');
  // An option of another optimizer or scheduler would be silently ignored: say so instead.
  const read = new Set([...rowsOf('optimizer', c.optimizer), ...rowsOf('scheduler', c.scheduler)]);
  for (const row of CHOICE_ROWS) {
    const value = given[row.key as keyof TrainConfig];
    if (value === undefined || read.has(row) || JSON.stringify(value) === JSON.stringify(DEFAULT_CONFIG[row.key as keyof typeof DEFAULT_CONFIG])) continue;
    const chosen = rowsOf('optimizer', usedBy(row)[0]).includes(row) ? `--optimizer ${c.optimizer}` : `--scheduler ${c.scheduler}`;
    check(false, `${flagName(row)} is an option of ${usedBy(row).join(', ')}; it has no effect with ${chosen}`, flagName(row));
  }
}

/** Fills defaults and rejects impossible values and combinations with one clear message. */
export function resolveConfig(partial: Partial<TrainConfig>): TrainConfig {
  const given = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<TrainConfig>;
  const c = { ...DEFAULT_CONFIG, ...given } as TrainConfig;
  const optimizer = TRAIN_OPTIONS.find((r) => r.key === 'optimizer')!;
  checkRow(optimizer, c.optimizer);
  c.lr ??= OPTIMIZERS[c.optimizer].defaultLr;
  for (const row of TRAIN_OPTIONS) {
    const value = c[row.key as keyof TrainConfig];
    if (value !== undefined) checkRow(row, value);
  }
  checkCombinations(c, given);
  return c;
}
