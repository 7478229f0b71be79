import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/fixtures.js';

test('--help lists the commands and --version prints the package version', () => {
  const help = runCli(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: cnn/);
  assert.match(help.stdout, /doctor/);
  assert.match(help.stdout, /bench/);
  const version = runCli(['--version']);
  assert.equal(version.status, 0);
  const pkg = JSON.parse(readFileSync(`${repoRoot}package.json`, 'utf8')) as { version: string };
  assert.equal(version.stdout.trim(), pkg.version);
});

test('doctor reports the CPU, the variant in use, threads and a passing self-check', () => {
  const r = runCli(['doctor', '--json', '--threads', '2']);
  assert.equal(r.status, 0, r.stderr);
  const d = JSON.parse(r.stdout) as { kernel: string; supported: string[]; threads: number; checks: { isa: string; ok: boolean }[]; ok: boolean };
  assert.equal(d.threads, 2);
  assert.ok(d.supported.includes('scalar'));
  assert.equal(d.kernel, d.supported[d.supported.length - 1]);
  assert.deepEqual(d.checks.map((c) => c.isa), d.supported);
  assert.ok(d.ok && d.checks.every((c) => c.ok));
  assert.match((d as unknown as { jpegDecoder: string }).jpegDecoder, /^(libjpeg-turbo \d|sharp \(libvips)/);
  const text = runCli(['doctor']);
  assert.equal(text.status, 0);
  assert.match(text.stdout, /jpeg: +(libjpeg-turbo|sharp)/);
  assert.match(text.stdout, /kernels: +\w+/);
  assert.match(text.stdout, /memory: +transparent huge pages .*: large tensors use (2 MiB|4 KiB) pages/);
  assert.match(text.stdout, /self-check scalar .*: ok/);
});

test('CNN_ISA forces each supported variant; an unsupported or unknown one is one clear error', () => {
  const d = JSON.parse(runCli(['doctor', '--json']).stdout) as { supported: string[] };
  for (const isa of d.supported) {
    const r = runCli(['doctor', '--json'], { CNN_ISA: isa });
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { kernel: string }).kernel, isa);
  }
  const missing = ['scalar', 'neon', 'avx2', 'avx512'].find((v) => !d.supported.includes(v))!;
  for (const isa of [missing, 'sse9']) {
    const r = runCli(['doctor'], { CNN_ISA: isa });
    assert.notEqual(r.status, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^cnn: .*(does not support|unknown kernel variant)/);
  }
});

test('CNN_THREADS and --threads are validated with one line and exit code 2', () => {
  const bad = runCli(['doctor', '--threads', '0']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^cnn: Expected an integer between 1 and 1024 for --threads but received 0/);
  const env = runCli(['doctor', '--json'], { CNN_THREADS: 'lots' });
  assert.notEqual(env.status, 0);
  assert.match(env.stderr, /CNN_THREADS must be an integer/);
  const ok = runCli(['doctor', '--json'], { CNN_THREADS: '3' });
  assert.equal((JSON.parse(ok.stdout) as { threads: number }).threads, 3);
});

test('unknown commands and options exit 2 without a stack trace', () => {
  for (const args of [['frobnicate'], ['doctor', '--no-such-option']]) {
    const r = runCli(args);
    assert.equal(r.status, 2);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test('bench gemm --json prints one object per line with GFLOP/s', () => {
  const r = runCli(['bench', 'gemm', '--json', '--sizes', '64,96', '--threads', '1']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 2);
  for (const [i, size] of [64, 96].entries()) {
    assert.equal(lines[i].op, 'gemm');
    assert.deepEqual([lines[i].m, lines[i].n, lines[i].k, lines[i].threads], [size, size, size, 1]);
    assert.ok(typeof lines[i].gflops === 'number' && (lines[i].gflops as number) > 0);
  }
  assert.equal(runCli(['bench', 'gemm', '--sizes', '0']).status, 2);
});
