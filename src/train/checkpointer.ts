// The Checkpointer owns a run's training state and its checkpoint files: last.bin after every
// epoch, best.bin on a new best validation accuracy, and on Ctrl-C the state of the interrupted
// epoch's start (kept in memory as the epoch begins), so a resumed run restarts that epoch from
// the very weights, optimizer, schedule and random state it began with and repeats it exactly.
import { join } from 'node:path';
import type { Tensor } from '../tensor/tensor.js';
import { defaultGenerator, type GeneratorState } from '../tensor/random.js';
import type { Module } from '../nn/module.js';
import type { Optimizer, OptimizerState } from '../optim/optimizer.js';
import {
  saveCheckpoint, loadCheckpoint, nonFiniteTensors, describeTensors, CheckpointError, type Checkpoint, type ModelConfig, type DatasetFacts,
} from './checkpoint.js';
import { NonFiniteLossError } from './train-epoch.js';
import { checkTrainingState, type TrainingState } from './training-state.js';
import type { Schedule } from './schedule.js';
import type { TrainConfig } from './options.js';
import type { ModelEma } from './model-ema.js';

export type { TrainingState };

/** Where a run stands between epochs. */
export interface Progress {
  /** The last finished epoch (0: none yet). */
  epoch: number;
  bestAcc: number;
  bestEpoch: number;
  epochsWithoutImprovement: number;
}

/** What a checkpoint of a run holds besides its files' facts. */
export interface CheckpointedParts {
  config: TrainConfig;
  model: Module;
  modelConfig: ModelConfig;
  facts: DatasetFacts;
  optimizer: Optimizer;
  schedule: Schedule;
  trainLoader: { length: number };
  /** --ema's averaged copy of the model, saved beside it under `ema.`. */
  ema?: ModelEma;
  /** Only the leader rank of a data-parallel run writes. */
  dp: { isLeader: boolean };
}

interface Snapshot {
  modelState: Map<string, Tensor>;
  emaState: Map<string, Tensor> | null;
  optimizer: OptimizerState;
  schedule: Record<string, unknown>;
  rng: GeneratorState;
  progress: Progress;
}

export class Checkpointer {
  readonly lastPath: string;
  readonly bestPath: string;
  private epochStart: Snapshot | null = null;
  /** The newest checkpoint known to be finite (every one this run writes is checked first). */
  private lastFinite: string | null = null;

  constructor(private readonly parts: CheckpointedParts, folder: string) {
    this.lastPath = join(folder, 'last.bin');
    this.bestPath = join(folder, 'best.bin');
  }

  /** A checkpoint written by `cnn train`, with its training state checked. */
  static read(path: string, allowNonFinite = false): { checkpoint: Checkpoint; state: TrainingState } {
    const checkpoint = loadCheckpoint(path, { allowNonFinite });
    if (!checkpoint.training) throw new CheckpointError(`${path} holds no training state (was it written by cnn train?)`, path);
    return { checkpoint, state: checkTrainingState(path, checkpoint.training) };
  }

  /**
   * Writes the run as it is now. With --ema both weight sets go in: the raw model's as the
   * checkpoint's weights and the EMA's under `ema.`, or with `weights: 'ema'` (best.bin under
   * --ema-eval ema) the EMA's as the weights that eval/predict/export use and the raw ones under `raw.`.
   */
  save(path: string, progress: Progress, interrupted = false, weights: 'raw' | 'ema' = 'raw'): void {
    if (!this.parts.dp.isLeader) return;
    const { config, modelConfig, facts, optimizer, schedule, trainLoader, ema } = this.parts;
    const raw = this.parts.model;
    const model = weights === 'ema' && ema ? ema.module : raw;
    const weightSet = !ema ? null : model === raw ? { prefix: 'ema.' as const, model: ema.module } : { prefix: 'raw.' as const, model: raw };
    const opt = optimizer.stateDict();
    const training: TrainingState = {
      ...progress, config, optimizer: opt.json, schedule: schedule.stateDict(), rng: defaultGenerator.getState(), batchesPerEpoch: trainLoader.length,
      ...(interrupted ? { interrupted } : {}),
    };
    saveCheckpoint(path, model, modelConfig, facts, training, opt.tensors, weightSet);
    this.lastFinite = path;
  }

  /** "loss became NaN …: training stopped (the last finite checkpoint is …; try a lower --lr)". */
  stopMessage(what: string): string {
    const good = this.lastFinite ? `the last finite checkpoint is ${this.lastFinite}` : 'no checkpoint was written yet';
    return `${what}: training stopped (${good}; try a lower --lr)`;
  }

  /** A finite loss can come with infinite weights (a huge step after it): never evaluate or save those. */
  assertFinite(epoch: number): void {
    const { model, optimizer, ema } = this.parts;
    const emaTensors = ema ? [...ema.module.stateDict()].map(([k, t]) => [`ema.${k}`, t] as [string, Tensor]) : [];
    const bad = nonFiniteTensors([...model.stateDict(), ...emaTensors, ...optimizer.stateDict().tensors]);
    if (bad.length > 0) throw new NonFiniteLossError(this.stopMessage(`weights became NaN or Inf at epoch ${epoch} (${describeTensors(bad)})`));
  }

  /** Remembers the state the epoch after `progress.epoch` starts from (copies of every tensor). */
  markEpochStart(progress: Progress): void {
    const { model, optimizer, schedule, ema } = this.parts;
    const copy = (m: Module) => new Map([...m.stateDict()].map(([k, t]) => [k, t.clone()]));
    this.epochStart = {
      modelState: copy(model),
      emaState: ema ? copy(ema.module) : null,
      optimizer: optimizer.stateDict(),
      schedule: structuredClone(schedule.stateDict()),
      rng: defaultGenerator.getState(),
      progress: { ...progress },
    };
  }

  /** Returns the run to the start of the interrupted epoch and writes last.bin from there. */
  saveInterrupted(): Progress {
    const start = this.epochStart;
    if (!start) throw new Error('saveInterrupted() before markEpochStart()');
    const { model, optimizer, schedule, ema } = this.parts;
    model.loadStateDict(start.modelState);
    if (ema && start.emaState) ema.module.loadStateDict(start.emaState);
    optimizer.loadStateDict(start.optimizer);
    schedule.loadStateDict(start.schedule);
    defaultGenerator.setState(start.rng);
    this.save(this.lastPath, start.progress, true);
    return start.progress;
  }

  /** Loads a checkpoint's weights, optimizer and random state into the run (its schedule is the caller's). */
  restore(checkpoint: Checkpoint, state: TrainingState, path: string): Progress {
    const { model, optimizer, ema } = this.parts;
    if (nonFiniteTensors(checkpoint.modelState).length === 0) this.lastFinite = path;
    model.loadStateDict(checkpoint.modelState);
    if (ema) {
      if (checkpoint.weightSet?.prefix !== 'ema.') throw new CheckpointError(`${path} holds no EMA weights to resume --ema from`, path);
      ema.module.loadStateDict(checkpoint.weightSet.state);
    }
    optimizer.loadStateDict({ json: state.optimizer, tensors: checkpoint.optimizerTensors });
    defaultGenerator.setState(state.rng);
    const { epoch, bestAcc, bestEpoch, epochsWithoutImprovement } = state;
    return { epoch, bestAcc, bestEpoch, epochsWithoutImprovement };
  }
}
