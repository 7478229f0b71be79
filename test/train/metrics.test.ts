import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfusionMatrix, averageReports } from '../../src/train/metrics.js';

// sklearn.metrics.classification_report(y_true, y_pred, output_dict=True) for these counts gives
// macro avg (0.583333, 0.583333, 0.573810) and weighted avg (0.633333, 0.6, 0.608571), support 10.
test('averageReports: macro and weighted averages as sklearn reports them', () => {
  const m = new ConfusionMatrix(['a', 'b', 'c']);
  const counts = [[3, 1, 0], [0, 2, 2], [1, 0, 1]];
  counts.forEach((row, t) => row.forEach((n, p) => m.add(new Array(n).fill(t), new Array(n).fill(p))));
  const { macro, weighted } = averageReports(m.report());
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);
  close(macro.precision, 0.583333); close(macro.recall, 0.583333); close(macro.f1, 0.573810);
  close(weighted.precision, 0.633333); close(weighted.recall, 0.6); close(weighted.f1, 0.608571);
  assert.equal(macro.support, 10);
  assert.equal(weighted.support, 10);
  const empty = averageReports(new ConfusionMatrix(['x']).report());
  assert.deepEqual(empty.weighted, { precision: 0, recall: 0, f1: 0, support: 0 });
});
