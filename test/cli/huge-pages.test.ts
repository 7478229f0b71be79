// Huge pages: doctor's account of them (by the kernel's mode, the C library and GLIBC_TUNABLES),
// cnn's restart with glibc's tunable, and the execProcess binding that restart uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeHugePages } from '../../src/cli/huge-pages.js';
import { runCli } from '../helpers/cli.js';
import { native } from '../../src/tensor/native.js';

test('huge pages: in use with the kernel set to always, or madvise with glibc 2.35+ and the tunable', () => {
  assert.equal(describeHugePages('always', null, '').inUse, true);
  assert.equal(describeHugePages('madvise', '2.36', 'glibc.malloc.hugetlb=1').inUse, true);
  assert.equal(describeHugePages('madvise', '2.40', 'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=2').inUse, true);
  const off = describeHugePages('madvise', '2.36', '');
  assert.equal(off.inUse, false);
  assert.match(off.summary, /export GLIBC_TUNABLES=glibc\.malloc\.hugetlb=1/);
  assert.equal(describeHugePages('madvise', '2.36', 'glibc.malloc.hugetlb=0').inUse, false);
  assert.equal(describeHugePages('madvise', '2.36', 'glibc.malloc.hugetlb=10').inUse, false);
  const old = describeHugePages('madvise', '2.31', 'glibc.malloc.hugetlb=1');
  assert.equal(old.inUse, false);
  assert.match(old.summary, /glibc 2\.31 cannot ask for them/);
  assert.equal(describeHugePages('madvise', null, 'glibc.malloc.hugetlb=1').inUse, false);
  assert.equal(describeHugePages('never', '2.36', 'glibc.malloc.hugetlb=1').inUse, false);
  assert.match(describeHugePages(null, null, '').summary, /not available: large tensors use 4 KiB pages/);
});

test('cnn restarts itself with the tunable where the kernel needs it, and keeps a user\'s own setting', () => {
  const report = (tunables: string) => {
    const r = runCli(['doctor', '--json'], { GLIBC_TUNABLES: tunables });
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as { hugePages: { kernel: string | null; glibc: string | null; inUse: boolean } }).hugePages;
  };
  const unset = report(''), optedOut = report('glibc.malloc.hugetlb=0');
  assert.deepEqual([unset.kernel, unset.glibc], [optedOut.kernel, optedOut.glibc]);
  // Unset: on a 'madvise' kernel with glibc 2.35+, doctor reports from the restarted process.
  assert.equal(unset.inUse, describeHugePages(unset.kernel, unset.glibc, 'glibc.malloc.hugetlb=1').inUse);
  assert.equal(optedOut.inUse, optedOut.kernel === 'always');
  if (process.platform === 'linux' && unset.glibc) assert.match(unset.glibc, /^\d+\.\d+/);
  // The restarted process gets the same arguments: a bad one is still one line and exit code 2.
  const bad = runCli(['train', '--epochs', '0'], { GLIBC_TUNABLES: '' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /^cnn: .*--epochs/);
});

test('execProcess checks its arguments, and a program that cannot run is an error, not an exit', () => {
  assert.throws(() => native.execProcess('/bin/true', [], []), /^RangeError: execProcess: argv must name the program/);
  assert.throws(() => native.execProcess('/bin/true', ['true', 3 as unknown as string], []), /^TypeError: execProcess: expected a string for argv\[1\]/);
  assert.throws(() => native.execProcess('/bin/true', ['true'], ['NO_EQUALS']), /^RangeError: execProcess: env entry 'NO_EQUALS' is not NAME=value/);
  assert.throws(() => native.execProcess('/bin/true', ['tr\0ue'], []), /^RangeError: execProcess: argv\[0\] holds a NUL character/);
  assert.throws(() => native.execProcess('/nonexistent/program', ['program'], []), /^Error: execProcess: cannot run \/nonexistent\/program: No such file or directory/);
});
