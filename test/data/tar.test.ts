// tar.gz extraction: real archives written by the test, and hostile ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { extractTarGz, listTarGz, safeEntryPath } from '../../src/data/tar.js';
import { CorruptFileError, NotAnArchiveError, TruncatedFileError, UnsafeArchiveEntryError } from '../../src/data/errors.js';
import { makeTar, makeTarGz, tarHeader } from '../helpers/tar.js';
import { withTempDir } from '../helpers/tmp.js';

test('extracts files and folders of a tar.gz, content byte-exact', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const big = Buffer.alloc(70_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 255;
    const archive = path.join(dir, 'a.tar.gz');
    writeFileSync(archive, makeTarGz([
      { name: 'top/', type: '5' },
      { name: 'top/small.txt', data: 'hello\n' },
      { name: './top/sub/big.bin', data: big },
      { name: 'top/empty', data: '' },
    ]));
    const out = path.join(dir, 'out');
    const files = await extractTarGz(archive, out);
    assert.equal(files.length, 3);
    assert.equal(readFileSync(path.join(out, 'top/small.txt'), 'utf8'), 'hello\n');
    assert.deepEqual(readFileSync(path.join(out, 'top/sub/big.bin')), big);
    assert.equal(readFileSync(path.join(out, 'top/empty')).length, 0);
    // No staging folder is left behind.
    assert.deepEqual(readdirSync(out), ['top']);
    const listed = await listTarGz(archive);
    assert.deepEqual(listed.map((e) => e.name), ['top/', 'top/small.txt', './top/sub/big.bin', 'top/empty']);
  } finally {
    cleanup();
  }
});

for (const [label, entry] of [
  ['a ../ entry', { name: '../escape.txt', data: 'x' }],
  ['a nested ../ entry', { name: 'top/../../escape.txt', data: 'x' }],
  ['an absolute path', { name: '/tmp/escape.txt', data: 'x' }],
  ['a symlink', { name: 'top/link', type: '2', linkname: '/etc/passwd' }],
  ['a hard link', { name: 'top/hard', type: '1', linkname: 'top/ok.txt' }],
] as const) {
  test(`refuses ${label} and writes nothing`, async () => {
    const { dir, cleanup } = withTempDir();
    try {
      const archive = path.join(dir, 'evil.tar.gz');
      writeFileSync(archive, makeTarGz([{ name: 'top/ok.txt', data: 'fine' }, entry]));
      const out = path.join(dir, 'nested', 'out');
      await assert.rejects(extractTarGz(archive, out), UnsafeArchiveEntryError);
      assert.equal(existsSync(path.join(dir, 'nested', 'escape.txt')), false);
      assert.equal(existsSync(path.join(dir, 'escape.txt')), false);
      assert.deepEqual(readdirSync(out), [], 'a refused archive leaves nothing extracted');
    } finally {
      cleanup();
    }
  });
}

test('safeEntryPath keeps names inside the root', () => {
  assert.equal(safeEntryPath('/data/x', 'a/b.bin'), path.resolve('/data/x/a/b.bin'));
  assert.equal(safeEntryPath('/data/x', './a//b.bin'), path.resolve('/data/x/a/b.bin'));
  assert.throws(() => safeEntryPath('/data/x', 'a/../../y'), UnsafeArchiveEntryError);
  assert.throws(() => safeEntryPath('/data/x', 'C:/windows'), UnsafeArchiveEntryError);
  assert.throws(() => safeEntryPath('/data/x', '..\\y'), UnsafeArchiveEntryError);
});

test('a truncated tar.gz is a TruncatedFileError, not a crash', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const full = makeTarGz([{ name: 'f.bin', data: Buffer.alloc(50_000, 3) }]);
    const archive = path.join(dir, 'cut.tar.gz');
    writeFileSync(archive, full.subarray(0, Math.floor(full.length / 2)));
    await assert.rejects(extractTarGz(archive, path.join(dir, 'out')), TruncatedFileError);
    // A complete gzip of a tar cut inside an entry is truncated too.
    const tar = makeTar([{ name: 'f.bin', data: Buffer.alloc(5_000, 3) }]);
    writeFileSync(archive, gzipSync(tar.subarray(0, 2048)));
    await assert.rejects(extractTarGz(archive, path.join(dir, 'out2')), (err: Error) => err instanceof TruncatedFileError && /f\.bin/.test(err.message));
  } finally {
    cleanup();
  }
});

test('an HTML page or a corrupt header is refused with its own error', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const html = path.join(dir, 'page.tar.gz');
    writeFileSync(html, '<!DOCTYPE html><html><body>Not found</body></html>');
    await assert.rejects(extractTarGz(html, path.join(dir, 'o1')), NotAnArchiveError);
    const tar = makeTar([{ name: 'f.txt', data: 'abc' }]);
    tar[0] ^= 0x40; // breaks the header checksum
    const bad = path.join(dir, 'bad.tar.gz');
    writeFileSync(bad, gzipSync(tar));
    await assert.rejects(extractTarGz(bad, path.join(dir, 'o2')), CorruptFileError);
  } finally {
    cleanup();
  }
});

test('the gzip trailer is checked even when the tar ends before the gzip stream does', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    // 256 KiB of record padding after the end-of-archive blocks, as tar writers add.
    const gz = gzipSync(Buffer.concat([makeTar([{ name: 'top/f.bin', data: 'abc' }]), Buffer.alloc(256 * 1024)]));
    gz[gz.length - 8] ^= 0xff; // the CRC-32
    const archive = path.join(dir, 'crc.tar.gz');
    writeFileSync(archive, gz);
    await assert.rejects(extractTarGz(archive, path.join(dir, 'out')), (err: Error) => err instanceof CorruptFileError && /crc\.tar\.gz is corrupt: its gzip trailer/.test(err.message));
    assert.ok(!existsSync(path.join(dir, 'out', 'top')), 'nothing extracted from a corrupt archive');
  } finally {
    cleanup();
  }
});

test('a pax header claiming 8 GB is refused before it is read', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const pax = tarHeader({ name: 'PaxHeader/f', type: 'x' }, 0o77777777777);
    const archive = path.join(dir, 'pax.tar.gz');
    writeFileSync(archive, gzipSync(Buffer.concat([pax, Buffer.alloc(4 << 20)])));
    await assert.rejects(extractTarGz(archive, path.join(dir, 'out')), /pax\.tar\.gz: tar entry "PaxHeader\/f" has a 8589934591-byte pax header/);
  } finally {
    cleanup();
  }
});

test('a regular entry claiming more than the archive can inflate to is refused at its header, in bounded memory', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    // 1 TiB claimed (base-256 size field), followed by 32 MiB of zeros: about 32 KiB of gzip,
    // so at most 1032 times that of tar. Before the cap the reader inflated all of it to disk.
    const archive = path.join(dir, 'huge.tar.gz');
    writeFileSync(archive, gzipSync(Buffer.concat([tarHeader({ name: 'top/huge.bin' }, 2 ** 40), Buffer.alloc(32 << 20)])));
    const out = path.join(dir, 'out');
    const script = `import('${new URL('../../src/data/tar.js', import.meta.url).href}').then(async (m) => {
      try { await m.extractTarGz(${JSON.stringify(archive)}, ${JSON.stringify(out)}); console.log('extracted'); } catch (e) { console.log(e.message); }
      console.log(process.resourceUsage().maxRSS);
    });`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    const [message, maxRssKb] = run.stdout.trim().split('\n');
    assert.match(message!, /huge\.tar\.gz: tar entry "top\/huge\.bin" claims 1099511627776 bytes, more than the archive can hold \(at most \d+ bytes left\)/, run.stderr);
    assert.ok(Number(maxRssKb) < 200 * 1024, `peak RSS ${maxRssKb} kB`);
    assert.deepEqual(readdirSync(out), [], 'nothing extracted');
    await assert.rejects(listTarGz(archive), /claims 1099511627776 bytes/);
    // An honest archive near deflate's best ratio (32 MiB of zeros) is well inside the cap.
    const zeros = path.join(dir, 'zeros.tar.gz');
    writeFileSync(zeros, makeTarGz([{ name: 'top/zeros.bin', data: Buffer.alloc(32 << 20) }]));
    assert.deepEqual((await listTarGz(zeros)).map((e) => e.size), [32 << 20]);
  } finally {
    cleanup();
  }
});

test('extraction merges into an existing folder and never deletes what is there', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const out = path.join(dir, 'out');
    mkdirSync(path.join(out, 'top'), { recursive: true });
    writeFileSync(path.join(out, 'top', 'mine.txt'), 'keep me');
    writeFileSync(path.join(out, 'top', 'f.bin'), 'old');
    const archive = path.join(dir, 'a.tar.gz');
    writeFileSync(archive, makeTarGz([{ name: 'top/f.bin', data: 'new' }, { name: 'top/sub/g.bin', data: 'g' }]));
    await extractTarGz(archive, out);
    assert.equal(readFileSync(path.join(out, 'top', 'mine.txt'), 'utf8'), 'keep me');
    assert.equal(readFileSync(path.join(out, 'top', 'f.bin'), 'utf8'), 'new');
    assert.equal(readFileSync(path.join(out, 'top', 'sub', 'g.bin'), 'utf8'), 'g');
    // A folder where the archive has a file is a clear error, and the folder stays.
    mkdirSync(path.join(out, 'top', 'h.bin'));
    writeFileSync(archive, makeTarGz([{ name: 'top/h.bin', data: 'h' }]));
    await assert.rejects(extractTarGz(archive, out), /cannot extract .*top\/h\.bin: a folder of that name is in the way/);
    assert.ok(statSync(path.join(out, 'top', 'h.bin')).isDirectory());
  } finally {
    cleanup();
  }
});

test('a file and then a folder at one path is a clear error, either way round', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const archive = path.join(dir, 'a.tar.gz');
    writeFileSync(archive, makeTarGz([{ name: 'a', data: 'x' }, { name: 'a/b', data: 'y' }]));
    await assert.rejects(extractTarGz(archive, path.join(dir, 'o1')), (err: Error) => err instanceof CorruptFileError && /tar entry "a\/b" clashes with an earlier entry/.test(err.message));
    writeFileSync(archive, makeTarGz([{ name: 'a', type: '5' }, { name: 'a', data: 'y' }]));
    await assert.rejects(extractTarGz(archive, path.join(dir, 'o2')), /tar entry "a" clashes/);
  } finally {
    cleanup();
  }
});

test('a full disk while extracting is one clear error, and nothing half-extracted stays', () => {
  const { dir, cleanup } = withTempDir();
  try {
    const archive = path.join(dir, 'big.tar.gz');
    writeFileSync(archive, makeTarGz([{ name: 'top/big.bin', data: Buffer.alloc(300_000, 5) }]));
    const out = path.join(dir, 'out');
    // A 64 KiB file-size limit makes the kernel return short writes, then EFBIG, as a full disk does.
    const script = `import { extractTarGz } from '${new URL('../../src/data/tar.js', import.meta.url).href}';
      extractTarGz(${JSON.stringify(archive)}, ${JSON.stringify(out)}).then(() => console.log('extracted'), (e) => console.log(e.constructor.name + ': ' + e.message));`;
    const r = spawnSync('bash', ['-c', 'ulimit -f 64; exec "$0" --input-type=module -e "$1"', process.execPath, script], { encoding: 'utf8' });
    assert.match(r.stdout, /^FileWriteError: cannot extract .*big\.tar\.gz into .*out: file too large for this file system or limit\n$/, r.stderr);
    assert.deepEqual(readdirSync(out), []);
  } finally {
    cleanup();
  }
});
