// --normalize: the dataset's statistics, ImageNet's or given ones, recorded in the checkpoint and
// used again by cnn eval, so the evaluation repeats the run's last validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { train } from '../../src/train/trainer.js';
import { QuietReporter } from '../../src/train/progress.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { evaluateCheckpoint } from '../../src/train/evaluate.js';
import { parseNormalize, resolveNormalization } from '../../src/data/normalization.js';
import { imagenetFacts } from '../../src/data/imagenet.js';
import { ConfigError } from '../../src/errors.js';
import { scratchDir } from '../helpers/tmp.js';

test('parseNormalize and resolveNormalization', () => {
  assert.equal(parseNormalize('imagenet'), 'imagenet');
  assert.deepEqual(parseNormalize('0.5,0.4,0.3:0.2,0.25,0.3'), { mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3] });
  for (const bad of ['', 'imagenet1k', '0.5:0', '0.5,0.5:0.2', '1,2,3', 'a:b', '0.5:0.2:0.1']) {
    assert.throws(() => parseNormalize(bad), (e: unknown) => e instanceof ConfigError && e.exitCode === 2 && /--normalize/.test(e.message), bad);
  }
  const own = { mean: [0.3], std: [0.2] };
  const { mean, std } = imagenetFacts().preprocessing;
  assert.deepEqual(resolveNormalization('dataset', own, 1), own);
  assert.deepEqual(resolveNormalization('imagenet', own, 3), { mean, std });
  const gray = resolveNormalization('imagenet', own, 1);
  assert.ok(Math.abs(gray.mean[0] - (mean[0] + mean[1] + mean[2]) / 3) < 1e-12);
  assert.deepEqual(resolveNormalization({ mean: [0.5], std: [0.25] }, own, 3), { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
  assert.throws(() => resolveNormalization({ mean: [0.5, 0.5], std: [0.2, 0.2] }, own, 3), /2 values per statistic but the images have 3 channels/);
});

test('a run with --normalize records it, and cnn eval repeats its last validation with it', async () => {
  const out = join(scratchDir('cnn-normalize-'), 'run');
  await train({ epochs: 1, batchSize: 100, valSplit: 0.9, optimizer: 'sgd', download: false, normalize: { mean: [0.9], std: [0.1] }, out }, { reporter: new QuietReporter() });
  const facts = loadCheckpoint(join(out, 'last.bin')).dataset;
  assert.deepEqual([facts.mean, facts.std], [[0.9], [0.1]]);
  const [, row] = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
  const valAcc = Number(row.split(',')[4]);
  const r = await evaluateCheckpoint(join(out, 'last.bin'));
  assert.ok(Math.abs(r.accuracy - valAcc) < 1e-6, `eval ${r.accuracy} vs the run's ${valAcc}`);
});
