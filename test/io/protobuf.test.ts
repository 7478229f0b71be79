import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtoWriter } from '../../src/io/protobuf.js';
import { readMessage, text, int, sub } from '../helpers/protobuf-reader.js';

test('varints, negative int64, floats and strings have the wire encoding protobuf documents', () => {
  // Field 1 = 150 is the encoding guide's example: 08 96 01.
  assert.deepEqual([...new ProtoWriter().int(1, 150).toBytes()], [0x08, 0x96, 0x01]);
  // A negative int64 is its 64-bit two's complement: ten bytes.
  assert.deepEqual([...new ProtoWriter().int(3, -1).toBytes()], [0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  assert.deepEqual([...new ProtoWriter().float(2, 1).toBytes()], [0x15, 0x00, 0x00, 0x80, 0x3f]);
  assert.deepEqual([...new ProtoWriter().string(2, 'testing').toBytes()], [0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67]);
  assert.deepEqual([...new ProtoWriter().packedInts(4, [3, 270, 86942]).toBytes()], [0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05]);
  assert.throws(() => new ProtoWriter().int(1, 0.5), /not an integer/);
});

test('nested messages keep their chunks and read back field by field', () => {
  const big = new Uint8Array(100_000).fill(7);
  const inner = new ProtoWriter().string(1, 'weight').bytes(9, big).int(2, 1);
  const outer = new ProtoWriter().int(1, 8).message(7, inner).packedFloats(3, [0.5, -2]);
  const chunks = outer.finish();
  assert.ok(chunks.includes(big), 'a large payload is not copied');
  const bytes = Buffer.concat(chunks);
  assert.equal(bytes.length, outer.length);
  const fields = readMessage(bytes);
  assert.equal(int(fields.get(1)?.[0]), 8n);
  const msg = sub(fields.get(7)?.[0]);
  assert.equal(text(msg.get(1)?.[0]), 'weight');
  assert.equal(int(msg.get(2)?.[0]), 1n);
  const payload = msg.get(9)?.[0];
  assert.ok(payload?.wire === 2 && payload.bytes.length === 100_000 && payload.bytes.every((b) => b === 7));
  const floats = fields.get(3)?.[0];
  assert.ok(floats?.wire === 2);
  assert.deepEqual([...new Float32Array(Uint8Array.from(floats.bytes).buffer)], [0.5, -2]);
});
