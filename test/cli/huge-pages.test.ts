// cnn doctor's memory line: whether large tensors land on 2 MiB pages, by the kernel's mode,
// the C library and GLIBC_TUNABLES.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeHugePages } from '../../src/cli/huge-pages.js';
import { runCli } from '../helpers/cli.js';

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

test('cnn doctor --json reports the huge pages of the process it runs in, by its GLIBC_TUNABLES', () => {
  const report = (tunables: string) => {
    const r = runCli(['doctor', '--json'], { GLIBC_TUNABLES: tunables });
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as { hugePages: { kernel: string | null; glibc: string | null; inUse: boolean } }).hugePages;
  };
  const on = report('glibc.malloc.hugetlb=1'), off = report('');
  assert.deepEqual([on.kernel, on.glibc], [off.kernel, off.glibc]);
  assert.equal(on.inUse, describeHugePages(on.kernel, on.glibc, 'glibc.malloc.hugetlb=1').inUse);
  assert.equal(off.inUse, on.kernel === 'always');
  if (process.platform === 'linux' && on.glibc) assert.match(on.glibc, /^\d+\.\d+/);
});
