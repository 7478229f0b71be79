// --unfreeze-at: staged unfreezing. With --freeze-backbone the backbone (BatchNorm statistics
// included) stays the starting weights bit for bit until that epoch; from it the backbone
// trains and its BatchNorm layers update their running statistics again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { models, io } from '../../src/index.js';
import { withTempDir } from '../helpers/tmp.js';
import { writeTinyImageFolder } from '../helpers/tiny-dataset.js';
import { runCli } from '../helpers/cli.js';

const equalBits = (a: { data: Float32Array }, b: { data: Float32Array }) =>
  Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength));

test('--freeze-backbone --unfreeze-at 2: the backbone is unchanged after epoch 1 and trains (BatchNorm statistics too) from epoch 2', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const data = (await writeTinyImageFolder(path.join(dir, 'img'), 4)).filter((a) => a !== '--quiet');
    const start = new models.SimpleCNN({ numClasses: 2 });
    const file = path.join(dir, 'start.safetensors');
    io.saveSafetensors(file, Object.fromEntries(start.stateDict()));
    const common = ['train', '--model', 'simplecnn', '--init', file, '--freeze-backbone', '--unfreeze-at', '2', ...data, '--image-size', '32', '--threads', '1'];
    const backbone = [...start.stateDict()].filter(([k]) => !k.startsWith('classifier.') && !k.endsWith('num_batches_tracked'));
    assert.ok(backbone.some(([k]) => k.endsWith('running_mean')), 'simplecnn has BatchNorm in its backbone');

    const one = runCli([...common, '--epochs', '1', '--out', path.join(dir, 'one')]);
    assert.equal(one.status, 0, one.stderr);
    const afterOne = io.loadWeights(path.join(dir, 'one', 'last.bin')).tensors;
    for (const [k, t] of backbone) assert.ok(equalBits(afterOne.get(k)!, t), `${k} moved while frozen`);

    const two = runCli([...common, '--epochs', '2', '--out', path.join(dir, 'two')]);
    assert.equal(two.status, 0, two.stderr);
    const afterTwo = io.loadWeights(path.join(dir, 'two', 'last.bin')).tensors;
    for (const [k, t] of backbone) assert.ok(!equalBits(afterTwo.get(k)!, t), `${k} did not change after unfreezing`);

    const alone = runCli(['train', '--model', 'simplecnn', '--unfreeze-at', '2', ...data, '--out', path.join(dir, 'x')]);
    assert.equal(alone.status, 2);
    assert.match(alone.stderr, /^cnn: --unfreeze-at needs --freeze-backbone/);
  } finally {
    cleanup();
  }
});
