// The one training-state type a checkpoint carries (JSON in its `training` metadata), checked
// field by field when read so a damaged or hand-edited file is one line naming the field.
import type { GeneratorState } from '../tensor/random.js';
import type { OptimizerState } from '../optim/optimizer.js';
import { CheckpointError } from './checkpoint.js';
import type { TrainConfig } from './options.js';

export interface TrainingState {
  /** The last finished epoch (0: none yet). */
  epoch: number;
  bestAcc: number;
  bestEpoch: number;
  epochsWithoutImprovement: number;
  config: TrainConfig;
  optimizer: OptimizerState['json'];
  schedule: Record<string, unknown>;
  rng: GeneratorState;
  batchesPerEpoch: number;
  /** Written by Ctrl-C: the weights are those of epoch `epoch`'s end; the next epoch restarts. */
  interrupted?: boolean;
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function checkTrainingState(path: string, raw: unknown): TrainingState {
  const bad = (what: string) => new CheckpointError(`${path} has bad 'training' metadata: ${what}`, path);
  if (!isObject(raw)) throw bad('not an object');
  const s = raw as Partial<Record<keyof TrainingState, unknown>>;
  for (const key of ['epoch', 'bestEpoch', 'epochsWithoutImprovement', 'batchesPerEpoch'] as const) {
    if (!isCount(s[key])) throw bad(`${key} ${JSON.stringify(s[key])} is not a whole number`);
  }
  // No best yet is -Infinity, which JSON writes as null.
  if (s.bestAcc === null) s.bestAcc = -Infinity;
  if (typeof s.bestAcc !== 'number') throw bad(`bestAcc ${JSON.stringify(s.bestAcc)} is not a number`);
  if (!isObject(s.config)) throw bad('no config');
  if (!isObject(s.optimizer) || !Array.isArray(s.optimizer.groups) || !Array.isArray(s.optimizer.step)) throw bad('no optimizer state');
  if (!isObject(s.schedule)) throw bad('no schedule state');
  const rng = s.rng as Partial<GeneratorState> | undefined;
  if (!isObject(rng) || !Array.isArray(rng.words) || rng.words.length !== 4 || !rng.words.every((w) => Number.isInteger(w))) throw bad('no random-generator state');
  if (s.interrupted !== undefined && typeof s.interrupted !== 'boolean') throw bad('interrupted is not true or false');
  return raw as unknown as TrainingState;
}
