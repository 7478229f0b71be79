// `cnn train` end to end on the bundled data: accuracy, run folder, resume, Ctrl-C, NaN, bad options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/fixtures.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { scratchDir } from '../helpers/tmp.js';

const tmp = () => scratchDir('cnn-train-');
const events = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

test('lenet5 on the bundled data passes 75% test accuracy in 3 epochs, and the run folder is complete', () => {
  const out = join(tmp(), 'run');
  const r = runCli(['train', '--epochs', '3', '--out', out, '--json', '--seed', '1'], { CI: 'true' });
  assert.equal(r.status, 0, r.stderr);
  const ev = events(r.stdout);
  assert.deepEqual(ev.map((e) => e.event).filter((e) => e !== 'checkpoint' && e !== 'note'), ['start', 'epoch', 'epoch', 'epoch', 'done']);
  const epochs = ev.filter((e) => e.event === 'epoch');
  const last = epochs[2] as { valAcc: number; valTop5: number };
  // A correct LeNet-5 with Adam lands near 81%; a broken gradient or loader stays far below.
  assert.ok(last.valAcc >= 0.75, `test accuracy ${last.valAcc}`);
  assert.ok(last.valTop5 >= 0.97);
  for (const f of ['args.json', 'metrics.csv', 'last.bin', 'best.bin', 'curves.png']) assert.ok(existsSync(join(out, f)), f);
  const csv = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'epoch,train_loss,train_acc,val_loss,val_acc,val_top5,lr,seconds,images_per_sec');
  assert.equal(csv.length, 4);
  for (const line of csv.slice(1)) {
    const cells = line.split(',');
    assert.equal(cells.length, 9);
    assert.ok(cells.every((c) => Number.isFinite(Number(c))), line);
  }
  const args = JSON.parse(readFileSync(join(out, 'args.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(args.model, 'lenet5');
  assert.equal(args.epochs, 3);
  assert.equal(args.lr, 0.001);
  const ck = loadCheckpoint(join(out, 'last.bin'));
  assert.equal(ck.model.name, 'lenet5');
  assert.deepEqual(ck.dataset.inputShape, [1, 28, 28]);
  assert.equal(ck.dataset.classes.length, 10);
  assert.equal((ck.training as { epoch: number }).epoch, 3);
  assert.ok(ck.modelState.has('features.0.weight') && ck.optimizerTensors.size > 0);
});

test('4 epochs straight equal 2 epochs + --resume to 4, number for number', () => {
  const common = ['--seed', '3', '--scheduler', 'step', '--step-size', '1', '--gamma', '0.5', '--augment', 'basic', '--val-split', '0.1', '--quiet'];
  const a = join(tmp(), 'a'), b = join(tmp(), 'b');
  assert.equal(runCli(['train', '--epochs', '4', '--out', a, ...common]).status, 0);
  assert.equal(runCli(['train', '--epochs', '2', '--out', b, ...common]).status, 0);
  const resumed = runCli(['train', '--resume', join(b, 'last.bin'), '--epochs', '4', '--quiet']);
  assert.equal(resumed.status, 0, resumed.stderr);
  // seconds and images/s are wall-clock; every other column must match exactly.
  const deterministic = (dir: string) => readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').slice(0, 7).join(','));
  assert.deepEqual(deterministic(b), deterministic(a));
  const finished = runCli(['train', '--resume', join(b, 'last.bin'), '--quiet']);
  assert.equal(finished.status, 2);
  assert.match(finished.stderr, /already finished epoch 4 of 4; pass --epochs/);
});

async function interruptedRun(env: NodeJS.ProcessEnv): Promise<void> {
  const out = join(tmp(), 'int');
  const child = spawn(process.execPath, [`${repoRoot}bin/cnn.js`, 'train', '--epochs', '50', '--out', out, '--json'], { cwd: repoRoot, env });
  let stdout = '';
  let signalled = false;
  const code = await new Promise<number | null>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!signalled && stdout.includes('"event":"epoch"')) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    child.on('exit', (c) => resolve(c));
  });
  assert.equal(code, 130);
  assert.match(stdout, /"event":"note".*interrupted in epoch 2/);
  const ck = loadCheckpoint(join(out, 'last.bin'));
  assert.equal((ck.training as { epoch: number; interrupted: boolean }).interrupted, true);
  assert.equal((ck.training as { epoch: number }).epoch, 1);
}

test('Ctrl-C finishes the step, writes last.bin and exits 130', () => interruptedRun(process.env));

// Without glibc's huge-page tunable, cnn starts itself again with it (src/cli/huge-pages.ts): the
// same process, so the signal, its output and its exit code still reach the parent.
test('Ctrl-C also reaches a run that restarted itself for huge pages', () => interruptedRun({ ...process.env, GLIBC_TUNABLES: '' }));

test('a diverging run stops with a message naming the last good checkpoint and never writes NaN weights', () => {
  const out = join(tmp(), 'nan');
  const r = runCli(['train', '--optimizer', 'sgd', '--lr', '1e30', '--epochs', '2', '--out', out]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^cnn: loss became (NaN|Infinity|-Infinity) at epoch 1, batch \d+: training stopped \(no checkpoint was written yet; try a lower --lr\)/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.ok(!existsSync(join(out, 'last.bin')));
});

test('bad options are one line and exit code 2, before any work', () => {
  const cases: [string[], RegExp][] = [
    [['--model', 'resnet9000'], /Expected one of .* for --model but received 'resnet9000'/],
    [['--lr', '-0.1'], /Expected a positive number for --lr but received -0.1/],
    [['--batch-size', '0'], /Expected an integer between 1 and \d+ for --batch-size but received 0/],
    [['--dataset', 'nosuch'], /Expected one of .* for --dataset but received 'nosuch'/],
    [['--optimizer', 'rmsprop'], /Expected one of sgd, adam, adamw for --optimizer/],
    [['--scheduler', 'multistep'], /needs --milestones/],
    [['--dataset', 'imagefolder', '--data-dir', '/nonexistent/images'], /nonexistent/],
    [['--model', 'resnet18', '--stem', 'tiny'], /Expected one of imagenet, cifar for --stem/],
    [['--resume', '/nonexistent/last.bin'], /cannot read \/nonexistent\/last.bin/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(['train', ...args, '--out', join(tmp(), 'x')]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
