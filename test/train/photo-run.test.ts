// Runs on image files through the CLI: `cnn eval ckpt.bin` alone reproduces the run's validation
// (--val-split 0.2), CSV labels, corrupt files stop the run or are skipped and counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { withTempDir } from '../helpers/tmp.js';

const CNN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/cnn.js');

function cnn(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CNN, ...args], { encoding: 'utf8', env: { ...process.env, CNN_THREADS: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const COLOURS = [[200, 40, 40], [40, 200, 40], [40, 40, 200]] as const;

/** Three classes of noisy colour fields in mixed sizes, so a small model learns something. */
async function photos(root: string, perClass: number): Promise<string[]> {
  const files: string[] = [];
  for (const [k, [r, g, b]] of COLOURS.entries()) {
    mkdirSync(path.join(root, `c${k}`), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const file = path.join(root, `c${k}`, `${i}.jpg`);
      await sharp({ create: { width: 48 + 7 * i, height: 40 + 3 * i, channels: 3, background: { r, g, b }, noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
        .jpeg().toFile(file);
      files.push(file);
    }
  }
  return files;
}

function events(stdout: string): Record<string, unknown>[] {
  return stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('cnn eval ckpt.bin alone evaluates the run\'s --val-split 0.2 share as the run did: the same top-1 and loss', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    await photos(path.join(dir, 'photos'), 10);
    const run = path.join(dir, 'run');
    const train = cnn(['train', '--model', 'simplecnn', '--dataset', 'imagefolder', '--data-dir', path.join(dir, 'photos'), '--val-split', '0.2',
      '--image-size', '32', '--augment', 'basic', '--epochs', '2', '--batch-size', '6', '--seed', '3', '--out', run, '--json']);
    assert.equal(train.status, 0, train.stderr);
    // 30 small JPEGs fit any memory budget, but the native decoder crops them from the files faster
    // than sharp crops kept images: decoded per batch, and the start says so.
    assert.match(String(events(train.stdout).find((e) => e.event === 'start')!.data), /^images decoded per batch \(JPEGs by libjpeg-turbo [\d.]+, faster than cropping kept images\)$/);
    const last = events(train.stdout).filter((e) => e.event === 'epoch').at(-1)!;
    const r = cnn(['eval', path.join(run, 'last.bin'), '--json']);
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(got.count, 6);
    assert.equal(got.top1, last.valAcc);
    assert.ok(Math.abs((got.loss as number) - (last.valLoss as number)) < 1e-5, `eval loss ${got.loss} vs the run's ${last.valLoss}`);
    assert.deepEqual([got.split, got.runValidation, got.transform], ['val', true, 'Resize(37) + CenterCrop(32)']);
    assert.equal(got.source, `20% of folder ${path.join(dir, 'photos')}, seed 3`);
    // Overrides: another share of the same folder is not the run's validation set.
    const half = JSON.parse(cnn(['eval', path.join(run, 'last.bin'), '--val-split', '0.5', '--json']).stdout) as Record<string, unknown>;
    assert.deepEqual([half.count, half.runValidation], [15, false]);
    const text = cnn(['eval', path.join(run, 'last.bin')]).stdout;
    assert.match(text, /on imagefolder val \(6 images\): 20% of folder .*, seed 3 — the run's validation set; Resize\(37\) \+ CenterCrop\(32\)/);
    // predict crops as the validation did and names a class.
    const p = cnn(['predict', path.join(run, 'last.bin'), path.join(dir, 'photos', 'c1', '3.jpg'), '--json']);
    assert.equal(p.status, 0, p.stderr);
    assert.ok(['c0', 'c1', 'c2'].includes((JSON.parse(p.stdout.trim().split('\n')[0]!) as { top: { class: string }[] }).top[0]!.class));
  } finally {
    cleanup();
  }
});

test('train on a labels CSV with --val-csv; a corrupt image stops the run naming it, or --skip-bad-images counts it', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const files = await photos(path.join(dir, 'img'), 4);
    const rel = (f: string) => path.relative(dir, f);
    const names = ['red', 'green', 'blue'];
    writeFileSync(path.join(dir, 'train.csv'), `path,label\n${files.filter((_, i) => i % 4 !== 0).map((f, i) => `${rel(f)},${names[Math.floor(files.indexOf(f) / 4)]}`).join('\n')}\n`);
    writeFileSync(path.join(dir, 'val.csv'), `path,label\n${files.filter((_, i) => i % 4 === 0).map((f) => `${rel(f)},${names[Math.floor(files.indexOf(f) / 4)]}`).join('\n')}\n`);
    const common = ['train', '--model', 'simplecnn', '--dataset', 'imagefolder', '--image-size', '32', '--epochs', '1', '--batch-size', '4', '--json'];
    const ok = cnn([...common, '--train-csv', path.join(dir, 'train.csv'), '--val-csv', path.join(dir, 'val.csv'), '--out', path.join(dir, 'run1')]);
    assert.equal(ok.status, 0, ok.stderr);
    const start = events(ok.stdout).find((e) => e.event === 'start')!;
    assert.deepEqual([start.trainCount, start.valCount], [9, 3]);
    const evalRun = JSON.parse(cnn(['eval', path.join(dir, 'run1', 'last.bin'), '--json']).stdout) as Record<string, unknown>;
    assert.deepEqual([evalRun.count, evalRun.source], [3, `labels ${path.join(dir, 'val.csv')}`]);
    assert.deepEqual((evalRun.perClass as { name: string }[]).map((c) => c.name), ['blue', 'green', 'red']);

    writeFileSync(files[5]!, 'this is not a JPEG');
    const stopped = cnn([...common, '--data-dir', path.join(dir, 'img'), '--val-split', '0.25', '--out', path.join(dir, 'run2')]);
    assert.equal(stopped.status, 2);
    assert.match(stopped.stderr, /^cnn: .*cannot decode image .*c1[/\\]1\.jpg/m);
    const skipped = cnn([...common, '--data-dir', path.join(dir, 'img'), '--val-split', '0.25', '--skip-bad-images', '--out', path.join(dir, 'run3')]);
    assert.equal(skipped.status, 0, skipped.stderr);
    const note = events(skipped.stdout).find((e) => e.event === 'note' && /skipped 1 unreadable image/.test(String(e.message)));
    assert.ok(note, skipped.stdout);
    assert.match(String(note.message), /c1[/\\]1\.jpg/);
  } finally {
    cleanup();
  }
});

test('the decoded-image cache: automatic for PNGs, refused by --no-cache-decoded; JPEGs the native decoder reads are not kept', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    for (const k of [0, 1]) {
      mkdirSync(path.join(dir, 'png', `c${k}`), { recursive: true });
      for (let i = 0; i < 4; i++) await sharp({ create: { width: 40, height: 32, channels: 3, background: COLOURS[k]! } }).png().toFile(path.join(dir, 'png', `c${k}`, `${i}.png`));
    }
    await photos(path.join(dir, 'jpg'), 3);
    const data = (folder: string, ...extra: string[]) => {
      const r = cnn(['train', '--model', 'simplecnn', '--dataset', 'imagefolder', '--data-dir', path.join(dir, folder), '--val-split', '0.25',
        '--image-size', '32', '--epochs', '1', '--batch-size', '4', '--json', '--out', path.join(dir, `run-${folder}${extra.join('')}`), ...extra]);
      assert.equal(r.status, 0, r.stderr);
      return String(events(r.stdout).find((e) => e.event === 'start')!.data);
    };
    assert.match(data('png'), /^decoded images kept in memory once read/);
    assert.equal(data('png', '--no-cache-decoded'), 'images decoded per batch');
    assert.match(data('jpg'), /^images decoded per batch \(JPEGs by libjpeg-turbo/);
    assert.match(data('jpg', '--cache-decoded'), /^decoded images kept in memory once read \(--cache-decoded\)/);
  } finally {
    cleanup();
  }
});
