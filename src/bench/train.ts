// Images per second of a full training step (forward, loss, backward, Adam step) or of a
// forward pass alone, on random data; median over timed steps after warm-up (at least 2 steps
// and 1 s, as bench/torch_bench.py), and peak RSS. Under mpirun each rank trains its own batch
// with gradients all-reduced (a fixed number of steps, so every rank makes the same collectives),
// and the figures of every rank are gathered: per-rank and global images/s and the share of step
// time spent waiting for the all-reduce.
import { Tensor, noGrad } from '../tensor/tensor.js';
import { Generator } from '../tensor/random.js';
import { getThreads } from '../tensor/native.js';
import { crossEntropy } from '../tensor/loss.js';
import { buildModel } from '../models/registry.js';
import { Adam } from '../optim/index.js';
import { StepBuffers } from '../tensor/storage.js';
import { timeMedian, median } from './timing.js';
import { soloWorld, type World } from '../dist/world.js';
import { DataParallel } from '../train/distributed.js';
import { profileModel } from '../nn/profile.js';
import type { Profiler, ProfileReport } from '../tensor/profile.js';

export interface TrainBenchOptions {
  model: string;
  input: [number, number, number];
  batch: number;
  numClasses?: number;
  stem?: 'imagenet' | 'cifar';
  warmup?: number;
  steps?: number;
  /** The ranks of a data-parallel run (default: this process alone). */
  world?: World;
  /** --profile: after the timed steps, as many again under the profiler (its overhead stays out of images/s). */
  profile?: boolean;
}

export interface TrainBenchResult {
  bench: 'train' | 'eval';
  model: string;
  input: number[];
  batch: number;
  threads: number;
  images_per_sec: number;
  peak_rss_mb: number;
  /** Data-parallel runs: the ranks, each one's images/s, and the median share of a step spent waiting on the all-reduce. */
  ranks?: number;
  rank_images_per_sec?: number[];
  global_batch?: number;
  communication_share?: number;
  profile?: ProfileReport;
}

export async function benchTrainStep(kind: 'train' | 'eval', o: TrainBenchOptions): Promise<TrainBenchResult> {
  const numClasses = o.numClasses ?? 10;
  const model = buildModel(o.model, { numClasses, inChannels: o.input[0], stem: o.stem });
  const g = new Generator(0);
  const x = Tensor.randn([o.batch, ...o.input], { generator: g });
  const y = Int32Array.from({ length: o.batch }, () => g.randint(numClasses));
  const world = o.world ?? soloWorld;
  const dp = new DataParallel(world);
  const waitShares: number[] = [];
  let step: () => void;
  let profiler: Profiler | undefined;
  if (kind === 'train') {
    model.train();
    const optimizer = new Adam(model.parameters(), { lr: 1e-3 }).useFlatStorage();
    dp.attach(model, model.parameters(), false, optimizer.flatStorage);
    const buffers = new StepBuffers();
    step = () => {
      const t0 = performance.now();
      profiler?.beginStep();
      buffers.begin();
      const loss = crossEntropy(model.call(x), y);
      profiler?.setPhase('backward');
      optimizer.zeroGrad();
      loss.backward();
      dp.averageGradients();
      profiler?.setPhase('optimizer');
      if (profiler) profiler.within('optimizer', () => optimizer.step());
      else optimizer.step();
      buffers.end();
      profiler?.endStep();
      waitShares.push(dp.takeWaitMs() / (performance.now() - t0));
    };
  } else {
    model.eval();
    const buffers = new StepBuffers();
    step = () => noGrad(() => {
      profiler?.beginStep();
      buffers.step(() => { model.call(x); });
      profiler?.endStep();
    });
  }
  const warmup = o.warmup ?? 2, steps = o.steps ?? 5;
  // Ranks warm up by count, not by time: every rank must take the same steps.
  const seconds = timeMedian(step, { warmup, warmupSeconds: world.size > 1 ? 0 : 1, minReps: steps, maxReps: steps, budgetSeconds: 0 });
  const result: TrainBenchResult = {
    bench: kind, model: o.model, input: [...o.input], batch: o.batch, threads: getThreads(),
    images_per_sec: o.batch / seconds, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  if (o.profile) {
    profiler = profileModel(model);
    for (let i = 0; i < steps; i++) step();
    result.profile = await profiler.stop();
    profiler = undefined;
  }
  if (world.size === 1) return result;
  // Gather: each rank fills its slot; the sum over ranks puts them all everywhere.
  const perRank = new Float64Array(2 * world.size);
  perRank[world.rank] = result.images_per_sec;
  perRank[world.size + world.rank] = waitShares.length ? median(waitShares.slice(warmup)) : 0;
  world.allreduceSum(perRank);
  const rates = Array.from(perRank.subarray(0, world.size));
  return {
    ...result, images_per_sec: rates.reduce((a, b) => a + b, 0), ranks: world.size, rank_images_per_sec: rates,
    global_batch: o.batch * world.size, communication_share: median(Array.from(perRank.subarray(world.size))),
  };
}
