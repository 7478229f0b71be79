// Images per second of a full training step (forward, loss, backward, Adam step) or of a
// forward pass alone, on random data; median over timed steps after warm-up (at least 2 steps
// and 1 s, as bench/torch_bench.py), and peak RSS.
import { Tensor, noGrad } from '../tensor/tensor.js';
import { Generator } from '../tensor/random.js';
import { getThreads } from '../tensor/native.js';
import { crossEntropy } from '../tensor/loss.js';
import { buildModel } from '../models/registry.js';
import { Adam } from '../optim/index.js';
import { timeMedian } from './timing.js';

export interface TrainBenchOptions {
  model: string;
  input: [number, number, number];
  batch: number;
  numClasses?: number;
  stem?: 'imagenet' | 'cifar';
  warmup?: number;
  steps?: number;
}

export interface TrainBenchResult {
  bench: 'train' | 'eval';
  model: string;
  input: number[];
  batch: number;
  threads: number;
  images_per_sec: number;
  peak_rss_mb: number;
}

export function benchTrainStep(kind: 'train' | 'eval', o: TrainBenchOptions): TrainBenchResult {
  const numClasses = o.numClasses ?? 10;
  const model = buildModel(o.model, { numClasses, inChannels: o.input[0], stem: o.stem });
  const g = new Generator(0);
  const x = Tensor.randn([o.batch, ...o.input], { generator: g });
  const y = Int32Array.from({ length: o.batch }, () => g.randint(numClasses));
  let step: () => void;
  if (kind === 'train') {
    model.train();
    const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
    step = () => {
      const loss = crossEntropy(model.call(x), y);
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
    };
  } else {
    model.eval();
    step = () => noGrad(() => { model.call(x); });
  }
  const seconds = timeMedian(step, { warmup: o.warmup ?? 2, warmupSeconds: 1, minReps: o.steps ?? 5, maxReps: o.steps ?? 5, budgetSeconds: 0 });
  return {
    bench: kind, model: o.model, input: [...o.input], batch: o.batch, threads: getThreads(),
    images_per_sec: o.batch / seconds, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}
