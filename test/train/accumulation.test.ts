// --accum-steps K through the real trainEpoch: K batches accumulated are one step on the K× larger
// batch (lenet5 has no BatchNorm), and a short last group is one step on its batches together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeNet5 } from '../../src/models/lenet.js';
import { SGD } from '../../src/optim/sgd.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { manualSeed } from '../../src/tensor/random.js';
import { DataParallel } from '../../src/train/distributed.js';
import { joinWorld } from '../../src/dist/world.js';
import { Schedule } from '../../src/train/schedule.js';
import { resolveConfig } from '../../src/train/config.js';
import { trainEpoch } from '../../src/train/train-epoch.js';
import { GradientAccumulation } from '../../src/train/accumulation.js';
import type { Run } from '../../src/train/run.js';
import type { TrainReporter } from '../../src/train/progress.js';
import { seededRandom } from '../helpers/seeded-random.js';

const N = 12;
const random = seededRandom(7);
const images = Float32Array.from({ length: N * 28 * 28 }, () => random() * 2 - 1);
const labels = Int32Array.from({ length: N }, (_, i) => (i * 7) % 10);

/** A loader over images [from, to) for each of the given batch bounds. */
function loader(bounds: number[]) {
  const batches = bounds.slice(1).map((to, i) => {
    const from = bounds[i];
    return { x: new Tensor(images.slice(from * 784, to * 784), [to - from, 1, 28, 28]), y: labels.slice(from, to), indices: new Int32Array(0) };
  });
  return { length: batches.length, setEpoch: () => {}, async *[Symbol.asyncIterator]() { yield* batches; } };
}

const silent = { batch: () => {} } as unknown as TrainReporter;

/** lenet5's weights after one epoch of SGD over these batches with --accum-steps k. */
async function trainedWeights(bounds: number[], accumSteps: number): Promise<Float32Array[]> {
  manualSeed(3);
  const model = new LeNet5();
  const trainable = model.parameters();
  const config = resolveConfig({ optimizer: 'sgd', lr: 0.5, accumSteps });
  const optimizer = new SGD(trainable, { lr: 0.5 });
  const trainLoader = loader(bounds);
  const run = { config, model, optimizer, trainable, trainLoader, schedule: new Schedule(optimizer, config, trainLoader.length), dp: new DataParallel(joinWorld()) } as unknown as Run;
  await trainEpoch(run, 1, silent);
  return trainable.map((p) => p.data.slice());
}

function assertSameWeights(got: Float32Array[], want: Float32Array[]): void {
  let worst = 0;
  for (let i = 0; i < want.length; i++) for (let j = 0; j < want[i].length; j++) worst = Math.max(worst, Math.abs(got[i][j] - want[i][j]));
  assert.ok(worst <= 1e-5, `largest difference ${worst}`);
}

test('--accum-steps 4 over four batches of 3 equals one step on the batch of 12', async () => {
  const accumulated = await trainedWeights([0, 3, 6, 9, 12], 4);
  const big = await trainedWeights([0, 12], 1);
  assertSameWeights(accumulated, big);
  // Not trivially equal: one step per small batch lands elsewhere.
  const unaccumulated = await trainedWeights([0, 3, 6, 9, 12], 1);
  assert.ok(unaccumulated.some((p, i) => p.some((v, j) => Math.abs(v - big[i][j]) > 1e-3)));
});

test('a short last group is one step on its own batches: --accum-steps 2 over 3 batches = steps on 8 then 4', async () => {
  const accumulated = await trainedWeights([0, 4, 8, 12], 2);
  const twoSteps = await trainedWeights([0, 8, 12], 1);
  assertSameWeights(accumulated, twoSteps);
});

test('GradientAccumulation: groups, scales and optimizer steps per epoch', () => {
  const a = new GradientAccumulation(7, 3);
  assert.equal(a.stepsPerEpoch, 3);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((b) => a.lossScale(b)), [1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1]);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].filter((b) => a.endsGroup(b)), [2, 5, 6]);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].filter((b) => a.startsGroup(b)), [0, 3, 6]);
});
