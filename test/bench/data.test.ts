// `cnn bench data` reports what it measured (not how fast: no timed tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchData } from '../../src/bench/data.js';

test('benchData reports images/s for the CIFAR preset', () => {
  const r = benchData({ batchSize: 16, threads: 1 });
  assert.deepEqual(Object.keys(r), ['bench', 'preset', 'augment', 'batch_size', 'threads', 'images_per_sec']);
  assert.equal(r.bench, 'data');
  assert.equal(r.preset, 'cifar10');
  assert.equal(r.threads, 1);
  assert.ok(Number.isFinite(r.images_per_sec) && r.images_per_sec > 0);
});
