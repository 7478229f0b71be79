// The image-folder index: packed paths (PathTable), file sizes recorded and cached, and memory that
// does not grow per file beyond the packed bytes (no JS string or object per file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { indexBytes, indexImageFolder, writeIndexCache } from '../../src/data/file-index.js';
import { PathTable } from '../../src/data/path-table.js';
import { withTempDir } from '../helpers/tmp.js';

test('PathTable: paths relative to a root (or absolute), subsets, and the NUL-joined form round trip', () => {
  const rel = ['cat/1.jpg', 'été/ä b.png', '/abs/x.jpg', '../up.jpg'];
  const t = PathTable.from('/data/pets', rel);
  assert.equal(t.length, 4);
  assert.deepEqual([...t], ['/data/pets/cat/1.jpg', '/data/pets/été/ä b.png', '/abs/x.jpg', '/data/up.jpg']);
  assert.deepEqual(Array.from({ length: 4 }, (_, i) => t.relative(i)), rel);
  assert.deepEqual([...t.subset([3, 0, 0])], ['/data/up.jpg', '/data/pets/cat/1.jpg', '/data/pets/cat/1.jpg']);
  assert.deepEqual([...PathTable.fromJoined('/data/pets', t.joined())], [...t]);
  assert.equal(PathTable.fromJoined('/r', '').length, 0);
  assert.equal(t.byteLength, Buffer.byteLength(rel.join('')) + 4 * 4);
  assert.throws(() => t.at(4), RangeError);
  assert.throws(() => PathTable.from('/r', ['a\0b']), RangeError);
});

test('the index records each file\'s size, and keeps it in the cache', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    for (const [rel, bytes] of [['cat/a.jpg', 3], ['cat/b.jpg', 70], ['dog/x/c.png', 0]] as const) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), Buffer.alloc(bytes));
    }
    for (const cached of [false, true]) {
      const index = await indexImageFolder(dir);
      assert.equal(index.cached, cached);
      assert.deepEqual(Array.from(index.sizes), [...index.files].map((f) => statSync(f).size));
      assert.deepEqual(Array.from(index.sizes), [3, 70, 0]);
    }
  } finally {
    cleanup();
  }
});

/** Bytes of the JS heap and array buffers that stay alive, after full collections (array buffers are freed after one). */
async function retainedBytes(): Promise<number> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  await new Promise((resolve) => setTimeout(resolve, 50));
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** What reading dir's index cache holds alive; in a function of its own, so nothing outlives it. */
async function heldByCachedIndex(dir: string): Promise<{ held: number; packed: number; count: number }> {
  const before = await retainedBytes();
  const index = await indexImageFolder(dir);
  const held = await retainedBytes() - before;
  assert.equal(index.cached, true);
  return { held, packed: indexBytes(index), count: index.files.length };
}

test('an index of 50,000 files read from its cache holds the paths\' bytes plus 16 bytes a file: no JS object per file', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    // The cache of a folder of 50,000 files, written as a listing would write it (making the files
    // themselves would take the test minutes).
    for (const cls of ['a', 'b']) mkdirSync(path.join(dir, cls));
    const n = 50_000;
    const names = Array.from({ length: n }, (_, i) => path.join(i < n / 2 ? 'a' : 'b', `${String(i).padStart(6, '0')}.jpg`));
    const pathBytes = names.reduce((s, p) => s + Buffer.byteLength(p), 0);
    writeIndexCache(dir, {
      classes: ['a', 'b'], files: PathTable.from(dir, names), labels: Int32Array.from(names, (_, i) => (i < n / 2 ? 0 : 1)),
      sizes: Float64Array.from(names, (_, i) => 1000 + i), folders: { a: statSync(path.join(dir, 'a')).mtimeMs, b: statSync(path.join(dir, 'b')).mtimeMs },
    });
    // Compiles the cache reader first: optimized code is the process's, not the index's. In a
    // function of its own, as an awaited value lingers in its async frame.
    await (async () => {
      for (let k = 0; k < 3; k++) assert.equal((await indexImageFolder(dir)).files.length, n);
    })();
    const { held, packed, count } = await heldByCachedIndex(dir);
    assert.equal(count, n);
    // Packed: the paths' UTF-8 bytes, a 4-byte end offset, a 4-byte label and an 8-byte size each.
    assert.equal(packed, pathBytes + 16 * n);
    // A JS string and an array slot per file (13-byte paths) would add over 40 bytes a file.
    assert.ok(held < packed + 12 * n, `the index holds ${(held / n).toFixed(1)} bytes a file (packed: ${(packed / n).toFixed(1)})`);
  } finally {
    cleanup();
  }
});
