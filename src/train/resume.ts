// --resume continues a run exactly as it was recorded: only --epochs (to extend it) and --threads
// may change, and a checkpoint older than the run's last epoch may not overwrite the later ones.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { flagName } from '../option-row.js';
import { TRAIN_OPTIONS, type TrainConfig } from './options.js';
import { resolveConfig } from './config.js';
import { loadCheckpoint } from './checkpoint.js';
import type { TrainingState } from './training-state.js';

/** Keys a resumed run may set anew; everything else must equal the run's args.json. */
const MAY_CHANGE: ReadonlySet<string> = new Set(['epochs', 'threads', 'resume', 'out', 'download', 'overwrite', 'allowNonFinite', 'maxMemory']);

const shown = (v: unknown) => (v === undefined ? 'unset' : Array.isArray(v) ? v.join(',') : String(v));

function refuseChangedOptions(given: Partial<TrainConfig>, recorded: TrainConfig, path: string): void {
  const differing = Object.entries(given).filter(([key, value]) => value !== undefined && !MAY_CHANGE.has(key)
    && JSON.stringify(value) !== JSON.stringify(recorded[key as keyof TrainConfig]));
  if (differing.length === 0) return;
  const flag = (key: string) => flagName(TRAIN_OPTIONS.find((r) => r.key === key) ?? { flag: key });
  const list = differing.map(([key, value]) => `${flag(key)} ${shown(value)} (the run has ${shown(recorded[key as keyof TrainConfig])})`);
  throw new ConfigError(`--resume continues a run with its recorded options, and these differ: ${list.join(', ')}; `
    + `only --epochs and --threads may change (to start a new run from these weights, use --init ${path})`, flag(differing[0][0]));
}

/** The epoch the run folder's last.bin finished (0 when it has none to read). */
function lastSavedEpoch(folder: string): number {
  const last = join(folder, 'last.bin');
  if (!existsSync(last)) return 0;
  try {
    const epoch = (loadCheckpoint(last, { allowNonFinite: true }).training as { epoch?: unknown } | null)?.epoch;
    return typeof epoch === 'number' ? epoch : 0;
  } catch {
    return 0;
  }
}

// The later epochs are those of the folder's last.bin. metrics.csv is written just before last.bin,
// so after a kill between the two it runs one epoch ahead, and resuming from last.bin must still work.
function refuseOverwritingLaterEpochs(path: string, state: TrainingState, out: string | undefined): void {
  const folder = dirname(path);
  if (resolve(path) === resolve(folder, 'last.bin') || (out !== undefined && resolve(out) !== resolve(folder))) return;
  const later = lastSavedEpoch(folder) - state.epoch;
  if (later <= 0) return;
  throw new ConfigError(`${path} is from epoch ${state.epoch} but ${folder} already holds ${later} later epoch${later === 1 ? '' : 's'}; `
    + 'resuming there would overwrite them: pass --out with a new folder, or resume from last.bin', '--out');
}

/** The config of a resumed run: the recorded one, with the new epochs, threads and folder. */
export function resumedConfig(given: Partial<TrainConfig>, path: string, state: TrainingState): TrainConfig {
  refuseChangedOptions(given, state.config, path);
  refuseOverwritingLaterEpochs(path, state, given.out);
  const c = resolveConfig({
    ...state.config, epochs: given.epochs ?? state.config.epochs, threads: given.threads, resume: path,
    out: given.out ?? dirname(path), download: given.download ?? state.config.download,
    overwrite: given.overwrite, allowNonFinite: given.allowNonFinite, maxMemory: given.maxMemory,
  });
  if (state.epoch >= c.epochs) {
    throw new ConfigError(`${path} already finished epoch ${state.epoch} of ${c.epochs}; pass --epochs with a larger number to extend it`, '--epochs');
  }
  return c;
}
