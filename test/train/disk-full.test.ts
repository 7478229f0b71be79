// A full disk during training: one line, exit 1, and the previous last.bin intact (it used to be
// replaced by a truncated file and the run exited 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/fixtures.js';
import { writeTinyImageFolder } from '../helpers/tiny-dataset.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { scratchDir } from '../helpers/tmp.js';

/** Mounts a tmpfs of `kib` KiB at `dir`; false where mounting is not allowed (not root, a container). */
function mountTmpfs(dir: string, kib: number): boolean {
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', dir]).status === 0;
}

test('disk full while writing last.bin: exit 1 naming the file, the previous checkpoint intact, no temp file', async () => {
  const dir = scratchDir('cnn-diskfull-');
  const data = await writeTinyImageFolder(join(dir, 'images'));
  const disk = join(dir, 'disk');
  mkdirSync(disk);
  const train = ['train', ...data, '--epochs', '2', '--out', join(disk, 'run')];
  if (mountTmpfs(disk, 1300)) {
    // Epoch 1 fits (two 533 kB checkpoints); epoch 2's last.bin does not fit beside them.
    try {
      const r = spawnSync(process.execPath, [`${repoRoot}bin/cnn.js`, ...train], { encoding: 'utf8' });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /^cnn: (?:error: )?cannot write .*run\/last\.bin: no space left on device \(wrote \d+ of \d+ bytes\)\n$/);
      assert.equal((loadCheckpoint(join(disk, 'run', 'last.bin')).training as { epoch: number }).epoch, 1);
      assert.deepEqual(readdirSync(join(disk, 'run')).filter((f) => f.includes('.tmp-') || f === '.lock'), []);
    } finally {
      spawnSync('umount', [disk]);
    }
  } else {
    // Without mount rights a file-size limit gives the same short writes: 256 KiB per file.
    const r = spawnSync('bash', ['-c', 'ulimit -f 256; exec "$@"', 'bash', process.execPath, `${repoRoot}bin/cnn.js`, ...train], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^cnn: (?:error: )?cannot write .*run\/last\.bin: file too large for this file system or limit \(wrote 262144 of \d+ bytes\)\n$/);
    assert.deepEqual(readdirSync(join(disk, 'run')).filter((f) => f.endsWith('.bin') || f.includes('.tmp-') || f === '.lock'), []);
  }
});
