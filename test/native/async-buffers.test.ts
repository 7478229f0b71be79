// Issue 12 #6: a native call that works on another thread must not read or write the caller's
// arrays there. JS changes or detaches every array while the call waits behind a busy libuv
// pool; the process must not crash and the result must be the one the arguments had at the call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pbkdf2 } from 'node:crypto';
import { native } from '../../src/tensor/native.js';
import { repoRoot } from '../helpers/fixtures.js';

const shape = [3, 16, 16] as const;
const count = 64, batch = 32;
const images = Uint8Array.from({ length: count * 3 * 16 * 16 }, (_, i) => (i * 2654435761) >>> 24);
const ops = [
  { kind: 'randomCrop', height: 16, width: 16, padding: [4, 4, 4, 4], padIfNeeded: false, paddingMode: 0, fill: [0, 0, 0] },
  { kind: 'horizontalFlip', p: 0.5 },
  { kind: 'normalize', mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
];
const outLength = batch * 3 * 16 * 16;

/** Occupies every libuv pool thread for a while, so a queued worker starts late. */
function busyPool(): Promise<void[]> {
  const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  return Promise.all(Array.from({ length: threads }, () => new Promise<void>((resolve, reject) => {
    pbkdf2('password', 'salt', 200_000, 64, 'sha512', (err) => (err ? reject(err) : resolve()));
  })));
}

function detach(a: ArrayBufferView): void {
  structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
  assert.equal(a.byteLength, 0);
}

function fresh() {
  return {
    images: images.slice(),
    indices: Int32Array.from({ length: batch }, (_, i) => (i * 7) % count),
    seeds: Uint32Array.from({ length: batch }, (_, i) => i * 977 + 1),
    out: new Float32Array(outLength),
  };
}

test('augmentBatchAsync uses the arguments as they were at the call, whatever JS does to them meanwhile', async () => {
  const want = fresh();
  native.augmentBatch({ images: want.images, imageShape: shape, indices: want.indices, seeds: want.seeds, ops, out: want.out, threads: 2 });

  const busy = busyPool();
  const a = fresh();
  const pending = native.augmentBatchAsync({ images: a.images, imageShape: shape, indices: a.indices, seeds: a.seeds, ops, out: a.out, threads: 2 });
  a.indices.fill(1 << 30);  // would read far outside images
  a.seeds.fill(0);
  a.images.fill(255);
  await pending;
  assert.deepEqual(a.out, want.out);

  const b = fresh();
  const detached = native.augmentBatchAsync({ images: b.images, imageShape: shape, indices: b.indices, seeds: b.seeds, ops, out: b.out, threads: 2 });
  detach(b.indices);
  detach(b.seeds);
  detach(b.images);
  await detached;
  assert.deepEqual(b.out, want.out);
  await busy;
});

test('augmentBatchAsync rejects, without writing anywhere, when out is detached meanwhile', async () => {
  const busy = busyPool();
  const c = fresh();
  const pending = native.augmentBatchAsync({ images: c.images, imageShape: shape, indices: c.indices, seeds: c.seeds, ops, out: c.out, threads: 2 });
  detach(c.out);
  await assert.rejects(pending, /augmentBatchAsync: out was detached or resized while the call was pending/);
  await busy;
});

test('an MPI all-reduce keeps its buffer referenced and reports one detached before it completes', () => {
  if (!native.mpiInfo().available) {
    assert.equal(native.mpiIallreduceSum, undefined, 'a build without MPI has no non-blocking all-reduce');
    return;
  }
  // In a child: MPI_Init as a singleton world must not touch this test process.
  const script = `
    const { native } = await import(${JSON.stringify(`${repoRoot}dist/src/tensor/native.js`)});
    native.mpiInit();
    const kept = Float32Array.of(1, 2, 3);
    native.mpiWait(native.mpiIallreduceSum(kept));
    const gone = Float32Array.of(1, 2, 3);
    const h = native.mpiIallreduceSum(gone);
    structuredClone(gone.buffer, { transfer: [gone.buffer] });
    try { native.mpiWait(h); console.log('no error'); } catch (e) { console.log(e.name + ': ' + e.message); }
    native.mpiFinalize();
    console.log('sum ' + [...kept].join(','));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /RangeError: mpiWait: the buffer was detached or resized while its all-reduce was pending/);
  assert.match(r.stdout, /sum 1,2,3/);
});
