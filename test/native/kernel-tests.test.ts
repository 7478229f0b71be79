// The C++ kernel tests (native/test/kernel_tests.cc): every ISA variant this CPU supports
// against gemm_ref/conv2d_ref on odd shapes, run without Node in the loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { nativeBuildDir } from '../../src/tensor/native.js';

test('native kernel tests pass for every supported variant', () => {
  const exe = join(nativeBuildDir(), 'kernel_tests');
  assert.ok(existsSync(exe), `${exe} is missing: the native build did not produce it`);
  // Under npm run test:asan leaks count here (node itself runs with leak checking off): the kernel
  // tests are ours from main() to exit. A later ASAN_OPTIONS entry overrides an earlier one.
  const asan = process.env.ASAN_OPTIONS;
  const env = asan === undefined ? process.env : { ...process.env, ASAN_OPTIONS: `${asan}:detect_leaks=1` };
  const r = spawnSync(exe, { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const summary = /(\d+) passed, (\d+) failed/.exec(r.stdout);
  assert.ok(summary, r.stdout);
  assert.ok(Number(summary[1]) > 100);
  assert.equal(Number(summary[2]), 0);
});
