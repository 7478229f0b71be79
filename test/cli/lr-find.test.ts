// `cnn lr-find` through the real executable: a short sweep on the bundled data prints fastai's two
// suggestions and writes the curve, leaves nothing else behind (no run folder, the --init file
// untouched), follows fastai's lr sequence and smoothing in --json, and bad options are one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { models, io } from '../../src/index.js';
import { lrSweep, SmoothedLoss, suggestLrs } from '../../src/train/lr-finder.js';
import type { LrFindResult } from '../../src/train/lr-find.js';
import { runCli } from '../helpers/cli.js';
import { withTempDir } from '../helpers/tmp.js';

/** Pixels of the PNG within 40 of an RGB colour (the curve's and the marks'). */
async function pixelsNear(file: string, [r, g, b]: [number, number, number]): Promise<number> {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  let n = 0;
  for (let i = 0; i < data.length; i += info.channels) if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 40) n++;
  return n;
}

test('a short sweep from --init weights prints both suggestions and writes the curve; nothing else is written and the weights file is untouched', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const weights = path.join(dir, 'lenet.safetensors');
    io.saveSafetensors(weights, Object.fromEntries(new models.LeNet5().stateDict()));
    const before = readFileSync(weights);
    const r = runCli(['lr-find', '--init', weights, '--steps', '30', '--threads', '1'], {}, dir);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0], /^lr-find lenet5 on fashion-mnist-mini \(10000 training images\): 30 steps from 1\.00e-7 towards 1\.00e\+1, adam, batch 32; 1 thread; no model is saved; initialised from .*lenet\.safetensors: 10 tensors loaded$/);
    assert.match(r.stdout, /^step 3\/30 {2}lr 3\.41e-7 {2}loss \d\.\d{4} {2}smoothed \d\.\d{4}$/m);
    assert.match(r.stdout, /^(ran 30 of 30 steps|stopped after \d+ of 30 steps: the smoothed loss passed 4× its minimum)$/m);
    assert.match(r.stdout, /^suggested lr: \d\.\d\de-\d \(steepest descent\), \d\.\d\de-\d \(minimum \d\.\d\de[-+]\d \/ 10\)$/m);
    assert.equal(lines.at(-1), 'plot: lenet5-fashion-mnist-mini-lr-find.png');
    assert.deepEqual(readdirSync(dir).sort(), ['lenet.safetensors', 'lenet5-fashion-mnist-mini-lr-find.png'], 'no run folder, no checkpoint');
    assert.ok(readFileSync(weights).equals(before), 'the --init file is unchanged');
    const png = path.join(dir, 'lenet5-fashion-mnist-mini-lr-find.png');
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.width, meta.height, meta.format], [800, 500, 'png']);
    assert.ok(await pixelsNear(png, [0x1f, 0x77, 0xb4]) > 300, 'the loss curve is drawn');
    assert.ok(await pixelsNear(png, [0xff, 0x7f, 0x0e]) > 100, 'the steepest-descent mark is drawn');
    assert.ok(await pixelsNear(png, [0x2c, 0xa0, 0x2c]) > 100, 'the minimum mark is drawn');
  } finally {
    cleanup();
  }
});

test('--json: the lrs are fastai\'s sequence, the smoothed losses and suggestions follow from the batch losses; --out makes its folder', () => {
  const { dir, cleanup } = withTempDir();
  try {
    const out = path.join(dir, 'plots', 'sweep.png');
    const r = runCli(['lr-find', '--start-lr', '1e-5', '--end-lr', '1', '--steps', '40', '--optimizer', 'sgd', '--momentum', '0.9', '--augment', 'basic', '--threads', '1', '--out', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 1, 'one JSON object');
    const res = JSON.parse(r.stdout) as LrFindResult;
    assert.equal(res.out, out);
    assert.ok(readdirSync(path.dirname(out)).includes('sweep.png'));
    // The same sweep as the fixture's short_range case (1e-5 → 1 over 40 steps), whose lrs test/train/lr-finder.test checks.
    assert.ok(res.lrs.length >= 8 && res.lrs.length <= 40);
    assert.deepEqual(res.lrs, lrSweep(1e-5, 1, 40).slice(0, res.lrs.length));
    const smoother = new SmoothedLoss();
    res.rawLosses.forEach((l, i) => assert.equal(res.losses[i], smoother.add(l), `smoothed loss ${i}`));
    assert.deepEqual(res.suggestions, suggestLrs(res.lrs, res.losses, 40));
    assert.equal(res.stopped === 'completed', res.lrs.length === 40);
  } finally {
    cleanup();
  }
});

test('bad lr-find options: one line, exit code 2, before any sweep', () => {
  const { dir, cleanup } = withTempDir();
  try {
    mkdirSync(path.join(dir, 'folder'));
    const cases: [string[], RegExp][] = [
      [['--steps', '5'], /^cnn: Expected an integer between 8 and 1000000 for --steps but received 5$/],
      [['--start-lr', '0'], /^cnn: Expected a positive number for --start-lr but received 0$/],
      [['--end-lr', '1e-8'], /^cnn: Expected --end-lr above --start-lr \(1e-7\) but received 1e-8$/],
      [['--model', 'resnet9'], /--model/],
      [['--momentum', '0.5'], /--momentum is an option of sgd; it has no effect with --optimizer adam/],
      [['--no-such-option'], /^cnn: unknown option '--no-such-option'$/],
      [['--out', path.join(dir, 'folder')], /^cnn: --out .*folder is a folder; give the PNG's file name$/],
    ];
    for (const [args, message] of cases) {
      const r = runCli(['lr-find', ...args, '--threads', '1'], {}, dir);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr.trim(), message, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(r.stdout, '', `${args.join(' ')} printed before failing: ${r.stdout}`);
    }
    assert.deepEqual(readdirSync(dir), ['folder']);
  } finally {
    cleanup();
  }
});
