// `| head`: when stdout's reader goes away the output ends quietly, never with an EPIPE stack.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/fixtures.js';
import { writeTinyImageFolder } from '../helpers/tiny-dataset.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { scratchDir } from '../helpers/tmp.js';

const dir = scratchDir('cnn-epipe-');
let data: string[] = [];
before(async () => {
  data = await writeTinyImageFolder(join(dir, 'images'));
});

/** Runs `cnn args | head -1` in bash; returns head's output, cnn's stderr and cnn's exit status. */
function pipeToHead(args: string[]) {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('bash', ['-c', `"$0" '${repoRoot}bin/cnn.js' ${quoted} 2>"$1" | head -1; echo "\${PIPESTATUS[0]}" >>"$1"`, process.execPath, join(dir, 'stderr')], { encoding: 'utf8' });
  const stderrLines = spawnSync('cat', [join(dir, 'stderr')], { encoding: 'utf8' }).stdout.trim().split('\n');
  return { head: r.stdout, status: Number(stderrLines.pop()), stderr: stderrLines.join('\n') };
}

test('cnn train --json | head -1 stops cleanly: exit 0, no stack, last.bin saved', () => {
  const out = join(dir, 'run');
  // Enough epochs that the run is still going when head has gone.
  const r = pipeToHead(['train', ...data.filter((a) => a !== '--quiet'), '--json', '--epochs', '50', '--out', out]);
  assert.equal(JSON.parse(r.head).event, 'start');
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  const training = loadCheckpoint(join(out, 'last.bin')).training as { epoch: number; interrupted?: boolean };
  assert.equal(training.interrupted, true);
  assert.ok(training.epoch < 50);
});

test('cnn predict ... | head -1 exits 0 without a stack', () => {
  const run = join(dir, 'model');
  const trained = spawnSync(process.execPath, [`${repoRoot}bin/cnn.js`, 'train', ...data, '--out', run], { encoding: 'utf8' });
  assert.equal(trained.status, 0, trained.stderr);
  // 3,000 predictions print far more than a pipe holds, so writes fail once head has exited.
  const images = Array.from({ length: 3000 }, (_, i) => join(dir, 'images', i % 2 ? 'a' : 'b', `${i % 16}.png`));
  const r = pipeToHead(['predict', join(run, 'last.bin'), ...images]);
  assert.match(r.head, /images\/b\/0\.png/);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
});
