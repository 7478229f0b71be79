import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../../src/tensor/tensor.js';
import { decodeSafetensors, encodeSafetensors, loadSafetensors, saveSafetensors, SafetensorsError } from '../../src/io/safetensors.js';

test('round trip keeps names, shapes, values, int64 counters and metadata', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cnn-st-'));
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
  const dir = mkdtempSync(join(tmpdir(), 'cnn-st-'));
  writeFileSync(join(dir, 'text.bin'), 'hello, this is not a checkpoint');
  assert.throws(() => loadSafetensors(join(dir, 'text.bin')), SafetensorsError);
  assert.throws(() => loadSafetensors(join(dir, 'missing.bin')), /cannot read .*ENOENT/);
});
