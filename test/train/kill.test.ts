// kill -9 at random moments of training: checkpoints always load, temps and locks of the dead are
// cleaned by the next run, and resuming continues. (bench/kill-train.ts runs longer campaigns.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { killLoop } from '../helpers/kill-loop.js';
import { writeTinyImageFolder } from '../helpers/tiny-dataset.js';
import { scratchDir } from '../helpers/tmp.js';

test('10 kills of a training process leave loadable checkpoints, and a resumed run continues', async (t) => {
  const dir = scratchDir('cnn-kill-');
  const data = await writeTinyImageFolder(join(dir, 'images'));
  const r = await killLoop(join(dir, 'run'), data, 10, 7);
  t.diagnostic(JSON.stringify(r));
  assert.ok(r.resumes > 0, 'some kills came after a checkpoint');
  // Half the kills are aimed inside the file writer; a temp file left by the killed run proves one landed there
  // (and the loop checked the next run removed it).
  assert.equal(r.aimedAtWriter, 5);
  assert.ok(r.killedInWriter > 0, 'some kills landed inside the file writer');
  // metrics.csv counts each finished epoch once, in order, across all the killed runs.
  assert.deepEqual(r.finalEpochs, r.finalEpochs.map((_, i) => i + 1));
});
