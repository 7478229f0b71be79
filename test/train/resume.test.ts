// --resume: an interrupted run resumes to the uninterrupted run's numbers exactly; changed
// options are refused by name; an old best.bin may not overwrite the later epochs of its run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { train } from '../../src/train/trainer.js';
import { QuietReporter } from '../../src/train/progress.js';
import { Checkpointer } from '../../src/train/checkpointer.js';
import type { TrainConfig } from '../../src/train/options.js';
import { ConfigError } from '../../src/errors.js';
import { scratchDir } from '../helpers/tmp.js';

const tmp = () => scratchDir('cnn-resume-');
const reporter = new QuietReporter();
// Augmentation draws from the generator, so an exact repeat needs the random state of the epoch's
// start as well as its weights. Training on 10% of the bundled set (10 steps an epoch) keeps it quick.
const common: Partial<TrainConfig> = {
  epochs: 2, batchSize: 100, seed: 5, augment: 'basic', valSplit: 0.9, optimizer: 'sgd', scheduler: 'onecycle', download: false,
};
/** seconds and images/s are wall-clock; every other column must match exactly. */
const deterministic = (dir: string) => readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').slice(0, 7).join(','));

/** Stops after `steps` steps (in whichever epoch that falls). */
function stopAfter(steps: number): () => boolean {
  let n = 0;
  return () => ++n >= steps;
}

test('interrupted mid-epoch (in epoch 1 or 2) then resumed gives the uninterrupted metrics.csv, number for number', async () => {
  const straight = join(tmp(), 'a');
  await train({ ...common, out: straight }, { reporter });
  for (const steps of [3, 14]) {
    const out = join(tmp(), `b${steps}`);
    const stopped = await train({ ...common, out }, { reporter, shouldStop: stopAfter(steps) });
    assert.equal(stopped.stopped, 'interrupted');
    const { state } = Checkpointer.read(join(out, 'last.bin'));
    assert.equal(state.interrupted, true);
    assert.equal(state.epoch, steps < 10 ? 0 : 1, 'the checkpoint is the interrupted epoch\'s start');
    const resumed = await train({ resume: join(out, 'last.bin'), download: false }, { reporter });
    assert.equal(resumed.stopped, 'completed');
    assert.deepEqual(deterministic(out), deterministic(straight));
  }
});

test('--resume refuses changed options by name, allows --epochs and --threads, and points to --init', async () => {
  const out = join(tmp(), 'run');
  await train({ ...common, epochs: 1, out }, { reporter });
  const last = join(out, 'last.bin');
  await assert.rejects(train({ resume: last, lr: 0.5, batchSize: 10, epochs: 2 }, { reporter }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.exitCode, 2);
    assert.match(err.message, /--lr 0.5 \(the run has 0.01\), --batch-size 10 \(the run has 100\)/);
    assert.match(err.message, /only --epochs and --threads may change .*--init .*last\.bin/);
    return true;
  });
  // Options equal to the recorded ones are not changes.
  const r = await train({ resume: last, batchSize: 100, optimizer: 'sgd', epochs: 2, threads: 1, download: false }, { reporter });
  assert.equal(r.lastEpoch, 2);
});

test('resuming from an epoch-1 checkpoint of a run with later epochs needs a new --out, and then repeats epoch 2', async () => {
  const plain = { ...common, scheduler: 'none' as const };
  const out = join(tmp(), 'run'), one = join(tmp(), 'one');
  await train({ ...plain, epochs: 2, out }, { reporter });
  await train({ ...plain, epochs: 1, out: one }, { reporter });
  // What best.bin is when epoch 1 was the best: the run's state after epoch 1.
  const early = join(out, 'early.bin');
  copyFileSync(join(one, 'last.bin'), early);
  await assert.rejects(train({ resume: early, epochs: 2 }, { reporter }), /already holds 1 later epoch; .*pass --out with a new folder/);
  const elsewhere = join(tmp(), 'branch');
  const r = await train({ resume: early, epochs: 2, out: elsewhere, download: false }, { reporter });
  assert.equal(r.lastEpoch, 2);
  assert.deepEqual(deterministic(elsewhere), deterministic(out));
  assert.equal(deterministic(out).length, 3, 'the original run is untouched');
});

test('a kill between the metrics row and last.bin leaves metrics.csv an epoch ahead; resuming from last.bin still works', async () => {
  const out = join(tmp(), 'run');
  await train({ ...common, epochs: 1, out }, { reporter });
  const metrics = join(out, 'metrics.csv');
  const rows = readFileSync(metrics, 'utf8').trim().split('\n');
  writeFileSync(metrics, `${[...rows, rows[1].replace(/^1,/, '2,')].join('\n')}\n`);
  const r = await train({ resume: join(out, 'last.bin'), epochs: 2 }, { reporter });
  assert.equal(r.lastEpoch, 2);
  assert.deepEqual(readFileSync(metrics, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]), ['1', '2']);
});
