import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Tensor } from '../../src/tensor/tensor.js';
import { decodeSafetensors, encodeSafetensors, loadSafetensors, saveSafetensors, SafetensorsError } from '../../src/io/safetensors.js';
import { scratchDir } from '../helpers/tmp.js';

test('round trip keeps names, shapes, values, int64 counters and metadata', () => {
  const dir = scratchDir('cnn-st-');
  const path = join(dir, 'model.bin');
  const w = Tensor.from([1.5, -2, 3.25, 0], [2, 2]);
  saveSafetensors(path, { 'conv1.weight': w, 'bn1.num_batches_tracked': { tensor: Tensor.scalar(17), dtype: 'I64' } }, { config: '{"model":"x"}' });
  assert.deepEqual(readdirSync(dir), ['model.bin']);
  const f = loadSafetensors(path);
  assert.deepEqual(f.tensors.get('conv1.weight')!.toArray(), [1.5, -2, 3.25, 0]);
  assert.deepEqual([...f.tensors.get('conv1.weight')!.shape], [2, 2]);
  assert.equal(f.tensors.get('bn1.num_batches_tracked')!.item(), 17);
  assert.equal(f.dtypes.get('bn1.num_batches_tracked'), 'I64');
  assert.equal(f.metadata.config, '{"model":"x"}');
  const raw = readFileSync(path);
  const headerLen = Number(raw.readBigUInt64LE(0));
  assert.equal((8 + headerLen) % 8, 0, 'tensor data is 8-byte aligned');
});

test('truncated and corrupt files are clear errors', () => {
  const good = encodeSafetensors({ a: Tensor.ones([4]) });
  assert.throws(() => decodeSafetensors(good.subarray(0, good.length - 3)), SafetensorsError);
  assert.throws(() => decodeSafetensors(good.subarray(0, 5)), /not a safetensors file/);
  const bad = Buffer.from(good);
  bad.write('{{{{', 8);
  assert.throws(() => decodeSafetensors(bad), /corrupt safetensors header/);
  const huge = Buffer.alloc(16);
  huge.writeBigUInt64LE(1n << 40n, 0);
  assert.throws(() => decodeSafetensors(huge), /truncated/);
  const dir = scratchDir('cnn-st-');
  writeFileSync(join(dir, 'text.bin'), 'hello, this is not a checkpoint');
  assert.throws(() => loadSafetensors(join(dir, 'text.bin')), SafetensorsError);
  assert.throws(() => loadSafetensors(join(dir, 'missing.bin')), /cannot read .*ENOENT/);
});

/** A file of `header` (as JSON) followed by `data`. */
function rawFile(header: object | string, data: Buffer = Buffer.alloc(0)): Buffer {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length), 0);
  return Buffer.concat([len, json, data]);
}

test('the format rules are enforced: overlapping offsets, holes, trailing bytes, duplicate keys, bad shapes', () => {
  const f32 = (begin: number, end: number, shape = [(end - begin) / 4]) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });
  assert.equal(decodeSafetensors(rawFile({ a: f32(0, 8), b: f32(8, 16) }, Buffer.alloc(16))).tensors.size, 2);
  assert.throws(() => decodeSafetensors(rawFile({ a: f32(0, 8), b: f32(4, 12) }, Buffer.alloc(12))), /overlaps/);
  assert.throws(() => decodeSafetensors(rawFile({ a: f32(0, 8), b: f32(0, 8) }, Buffer.alloc(8))), /overlaps/);
  assert.throws(() => decodeSafetensors(rawFile({ a: f32(0, 8), b: f32(12, 16) }, Buffer.alloc(16))), /4 bytes before tensor 'b' belong to no tensor/);
  assert.throws(() => decodeSafetensors(rawFile({ a: f32(0, 8) }, Buffer.alloc(11))), /3 trailing bytes/);
  assert.throws(() => decodeSafetensors(rawFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', Buffer.alloc(8))), /'a' appears twice/);
  assert.throws(() => decodeSafetensors(rawFile({ a: f32(0, 8, [-2, -1]) }, Buffer.alloc(8)), 'neg.bin'), /neg\.bin: tensor 'a' has shape \[-2,-1\]/);
  assert.throws(() => decodeSafetensors(rawFile({ a: { dtype: 'toString', shape: [], data_offsets: [0, 0] } })), /invalid header entry/);
  assert.throws(() => decodeSafetensors(rawFile({ __metadata__: { n: 3 } })), /__metadata__ must map names to strings/);
  // Keys inside nested objects and strings with escaped quotes are not top-level duplicates.
  const nested = rawFile({ __metadata__: { a: 'x\\"a\\"', b: '{"a":1}' }, a: f32(0, 4) }, Buffer.alloc(4));
  assert.equal(decodeSafetensors(nested).metadata.b, '{"a":1}');
});

test('loadSafetensors reads the header before the tensors: a 2 GB file with a bad header costs no memory', () => {
  const dir = scratchDir('cnn-st-');
  const path = join(dir, 'sparse.bin');
  // A sparse file: 2 GB long, almost nothing on disk, header length 2 ("{}") followed by zeros.
  const fd = openSync(path, 'w');
  writeSync(fd, rawFile('{}'));
  ftruncateSync(fd, 2 * 1024 ** 3);
  closeSync(fd);
  const script = `import('${new URL('../../src/io/safetensors.js', import.meta.url).href}').then((m) => {
    try { m.loadSafetensors(${JSON.stringify(path)}); console.log('loaded'); } catch (e) { console.log(e.message); }
    console.log(process.resourceUsage().maxRSS);
  });`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  const [message, maxRssKb] = run.stdout.trim().split('\n');
  assert.match(message!, /trailing bytes/);
  assert.ok(Number(maxRssKb) < 200 * 1024, `peak RSS ${maxRssKb} kB`);
  rmSync(dir, { recursive: true, force: true });
});

test('loadSafetensors names a folder and a file that is not one', () => {
  const dir = scratchDir('cnn-st-');
  assert.throws(() => loadSafetensors(dir), /it is a folder/);
  rmSync(dir, { recursive: true, force: true });
});
