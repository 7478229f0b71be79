// What a run prints: "1 thread", no top-5 with 5 classes or fewer, and an interrupt before the first
// epoch ends says so instead of "best val top-1 0.00% at epoch 0".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { train } from '../../src/train/trainer.js';
import { PlainReporter } from '../../src/train/progress.js';
import { withTempDir } from '../helpers/tmp.js';

const tmp = withTempDir();
after(tmp.cleanup);
const folder = join(tmp.dir, 'images');

before(async () => {
  for (const cls of ['a', 'b', 'c']) {
    mkdirSync(join(folder, cls), { recursive: true });
    for (let i = 0; i < 4; i++) {
      const pixels = Buffer.alloc(32 * 32 * 3, 60 * ['a', 'b', 'c'].indexOf(cls) + i);
      await sharp(pixels, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(join(folder, cls, `${i}.png`));
    }
  }
});

/** The lines PlainReporter prints during fn. */
async function printed(fn: () => Promise<unknown>): Promise<string[]> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => { lines.push(args.join(' ')); };
  try {
    await fn();
  } finally {
    console.log = log;
  }
  return lines;
}

const common = { model: 'simplecnn', dataset: 'imagefolder', dataDir: folder, valSplit: 0.5, epochs: 1, batchSize: 4, threads: 1, download: false };

test('one thread is "1 thread", and 3 classes show no top-5', async () => {
  const lines = await printed(() => train({ ...common, out: join(tmp.dir, 'run') }, { reporter: new PlainReporter() }));
  assert.match(lines[0], /; 1 thread; /);
  const epoch = lines.find((l) => l.startsWith('epoch 1/1'));
  assert.ok(epoch, lines.join('\n'));
  assert.match(epoch, /top-1/);
  assert.doesNotMatch(epoch, /top-5/);
});

test('an interrupt before the first epoch ends reports that no epoch finished', async () => {
  const lines = await printed(() => train({ ...common, out: join(tmp.dir, 'stopped') }, { reporter: new PlainReporter(), shouldStop: () => true }));
  assert.ok(!lines.some((l) => /best val top-1/.test(l)), lines.join('\n'));
  assert.match(lines.at(-1)!, /^no epoch finished; the run folder is /);
});
