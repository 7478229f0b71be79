// `cnn bench ops` reports what it measured against the FMA peak (not how fast: no timed tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchOps, convFlops, opCases } from '../../src/bench/ops.js';
import { native } from '../../src/tensor/native.js';
import { runCli } from '../helpers/cli.js';

test('fmaPeak measures every supported ISA and refuses the others', () => {
  const info = native.cpuInfo();
  for (const isa of info.supported) assert.ok(native.fmaPeak(isa, 1) > 0, isa);
  for (const isa of ['scalar', 'neon', 'avx2', 'avx512'].filter((i) => !info.supported.includes(i))) {
    assert.throws(() => native.fmaPeak(isa, 1), /does not support/);
  }
  assert.throws(() => native.fmaPeak('sse9', 1), /scalar, neon, avx2 or avx512/);
  assert.throws(() => native.fmaPeak(info.active, 0), /threads/);
});

test('convFlops counts two flops per multiply-add of the convolution', () => {
  const [c3] = opCases(2);
  assert.equal(c3.kind, 'conv3x3');
  assert.equal(convFlops(c3.conv), 2 * 2 * 64 * 56 * 56 * 64 * 9);
  const dw = opCases(1).find((c) => c.kind === 'depthwise' && c.conv.strideH === 2)!;
  assert.equal(convFlops(dw.conv), 2 * 144 * 28 * 28 * 9);
});

test('benchOps reports each pass beside the peak, with the path the dispatcher took', () => {
  const rows = benchOps({ batch: 1, threads: [1], kinds: ['depthwise'], budgetSeconds: 0 });
  const cases = opCases(1).filter((c) => c.kind === 'depthwise');
  assert.equal(rows.length, cases.reduce((s, c) => s + c.passes.length, 0));
  for (const r of rows) {
    assert.deepEqual(Object.keys(r), ['bench', 'kind', 'pass', 'shape', 'threads', 'isa', 'algo', 'gflops', 'peak_gflops', 'fraction_of_peak']);
    assert.equal(r.kind, 'depthwise');
    assert.equal(r.algo, 'depthwise');
    assert.equal(r.threads, 1);
    assert.equal(r.isa, native.cpuInfo().active);
    assert.ok(r.gflops > 0 && r.peak_gflops > 0);
    assert.equal(r.fraction_of_peak, r.gflops / r.peak_gflops);
  }
  assert.deepEqual(rows.map((r) => r.pass).slice(0, 3), ['forward', 'backwardInput', 'backwardWeight']);
  assert.deepEqual(rows[0].shape, [1, 144, 56, 56, 144, 3, 1]);
});

test('benchOps over several rounds reports each row once, in the order of one round', () => {
  const one = benchOps({ batch: 1, threads: [1], kinds: ['depthwise'], budgetSeconds: 0 });
  const seen: string[] = [];
  const two = benchOps({ batch: 1, threads: [1], kinds: ['depthwise'], budgetSeconds: 0, rounds: 2 }, (r) => seen.push(`${r.shape} ${r.pass}`));
  const keys = (rows: typeof one) => rows.map((r) => `${r.shape} ${r.pass}`);
  assert.deepEqual(keys(two), keys(one));
  assert.deepEqual(seen, keys(one));
});

test('cnn bench ops --json prints one row per pass and refuses an unknown --kind', () => {
  const r = runCli(['bench', 'ops', '--json', '--kind', 'gemm', '--threads', '1', '--rounds', '1']);
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(rows.length, 1);
  assert.deepEqual([rows[0].bench, rows[0].kind, rows[0].algo, rows[0].threads], ['ops', 'gemm', 'gemm', 1]);
  assert.deepEqual(rows[0].shape, [1024, 1024, 1024]);
  const bad = runCli(['bench', 'ops', '--kind', 'conv9x9']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^cnn: Expected a comma-separated list of conv3x3, conv1x1, depthwise, gemm for --kind but received 'conv9x9'\n$/);
});
