// bench/region-trace on a small 2-thread training step: it lists the regions that ran with a team,
// named from the addon's symbols, with the counts and times it says it prints, the gap histogram and
// the pairs of regions around the longest gaps.
// (What it measures depends on the machine: only the report's shape is checked, no timings.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { repoRoot } from '../helpers/fixtures.js';

test('bench/region-trace reports each parallel region of a 2-thread training step', () => {
  const out = execFileSync('bash', [`${repoRoot}bench/region-trace`, 'bench', 'train', '--model', 'resnet18', '--input', '3x32x32',
    '--batch', '16', '--threads', '2', '--steps', '1'], { encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: 'passive' } });
  const lines = out.trim().split('\n');
  const header = lines.findIndex((l) => l.startsWith('region '));
  assert.ok(header > 0, out);
  assert.deepEqual(lines[header].split(/\s+/), ['region', 'alone', 'team', 'wall_ms', 'busy0', 'busy1', 'wait0', 'wait1', 'start1_us', 'end_us']);
  const histogram = lines.findIndex((l) => l.startsWith('gaps between team regions'));
  const rows = lines.slice(header + 1, histogram).map((l) => l.trim().split(/\s+/));
  // Columns from the right: the name may hold spaces.
  const team = (r: string[]) => Number(r[r.length - 8]);
  assert.ok(rows.length > 5 && rows.every((r) => r.slice(-9).every((v) => Number.isFinite(Number(v)))), out);
  assert.ok(rows.some((r) => team(r) > 0 && r[0].includes('cnn::')), out);
  assert.match(lines[histogram], /^gaps between team regions \(µs: count\): <2:\d+ <5:\d+ <15:\d+ <50:\d+ <100:\d+ <200:\d+ <1000:\d+ >=1000:\d+$/);
  assert.match(lines[histogram + 1], /^gap after region +before region +count +total_ms$/);
  // Names are cut to 45 characters each: the last two columns are the count and the milliseconds.
  const pairs = lines.slice(histogram + 2).map((l) => l.trim().split(/\s+/));
  assert.ok(pairs.length > 0 && pairs.length <= 20, out);
  assert.ok(pairs.every((r) => Number.isInteger(Number(r[r.length - 2])) && Number(r[r.length - 2]) > 0 && Number(r[r.length - 1]) >= 0), out);
  assert.ok(pairs.some((r) => r.filter((v) => v.startsWith('cnn::')).length === 2), out);
});
