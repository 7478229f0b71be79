// --backbone-lr: two param groups, the head at --lr and the rest at the backbone's. At 0 the
// backbone in best.bin is the starting weights bit for bit while the head learns; with
// --freeze-backbone it would do nothing and is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { models, io } from '../../src/index.js';
import { withTempDir } from '../helpers/tmp.js';
import { writeTinyImageFolder } from '../helpers/tiny-dataset.js';
import { runCli } from '../helpers/cli.js';

test('--backbone-lr 0 keeps the backbone bit-equal while the head at --lr learns; with --freeze-backbone it is refused', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const data = (await writeTinyImageFolder(path.join(dir, 'img'), 4)).filter((a) => a !== '--quiet');
    const start = new models.LeNet5({ numClasses: 2 });
    const file = path.join(dir, 'start.safetensors');
    io.saveSafetensors(file, Object.fromEntries(start.stateDict()));
    const out = path.join(dir, 'run');
    const r = runCli(['train', '--model', 'lenet5', '--init', file, '--backbone-lr', '0', '--lr', '0.01', ...data, '--threads', '1', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const best = io.loadWeights(path.join(out, 'last.bin')).tensors;
    for (const [key, t] of start.stateDict()) {
      const same = Buffer.from(best.get(key)!.data.buffer, best.get(key)!.data.byteOffset, t.data.byteLength)
        .equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      assert.equal(same, key.startsWith('features.'), `${key}: ${key.startsWith('features.') ? 'the backbone at lr 0 moved' : 'the head did not learn'}`);
    }
    const refused = runCli(['train', '--model', 'lenet5', '--backbone-lr', '0.001', '--freeze-backbone', ...data, '--threads', '1', '--out', path.join(dir, 'x')]);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /^cnn: --backbone-lr has no effect with --freeze-backbone/);
  } finally {
    cleanup();
  }
});
