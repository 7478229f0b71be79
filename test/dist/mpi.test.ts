// Data-parallel proofs on 2 ranks over this machine's loopback (mpirun --oversubscribe).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMpi } from '../helpers/mpirun.js';

function jsonLines(stdout: string): Record<string, number>[] {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, number>);
}

test('--sync-bn: forward, backward and running statistics equal BatchNorm over the concatenated shards', () => {
  const r = runMpi(2, 'dist/test/dist/ranks/sync-bn.js');
  assert.equal(r.status, 0, r.stderr);
  const ranks = jsonLines(r.stdout);
  assert.deepEqual(ranks.map((e) => e.rank).sort(), [0, 1]);
  for (const e of ranks) {
    assert.equal(e.size, 2);
    for (const key of ['y', 'dx', 'dweight', 'dbias', 'runningMean', 'runningVar', 'eval']) assert.ok(e[key] < 2e-5, `rank ${e.rank} ${key} differs by ${e[key]}`);
    assert.equal(e.batches, 0);
  }
});
