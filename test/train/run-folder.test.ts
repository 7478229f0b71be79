// Run folders: locked while a run lives, never silently reused, stale locks and temps cleaned.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { runCli } from '../helpers/cli.js';
import { writeTinyImageFolder } from '../helpers/tiny-dataset.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { scratchDir } from '../helpers/tmp.js';

const dir = scratchDir('cnn-runfolder-');
let data: string[] = [];
before(async () => {
  data = await writeTinyImageFolder(join(dir, 'images'));
});

const epochsIn = (folder: string) => readFileSync(join(folder, 'metrics.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[0]));

function oneLineError(r: ReturnType<typeof runCli>, code: number, message: RegExp): void {
  assert.equal(r.status, code, r.stderr);
  assert.match(r.stderr, message);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
}

test('a second process in a locked folder exits 2; the lock of a killed process is taken over', async () => {
  const out = join(dir, 'locked');
  const holder = spawn(process.execPath, ['--input-type=module', '-e', `
    import { claimRunFolder } from '${new URL('../../src/train/run-folder.js', import.meta.url).href}';
    claimRunFolder({ out: ${JSON.stringify(out)}, model: 'm', dataset: 'd' });
    console.log('locked');
    setInterval(() => {}, 1000);`]);
  await once(holder.stdout, 'data');
  const lock = JSON.parse(readFileSync(join(out, '.lock'), 'utf8')) as { pid: number; host: string; started: string };
  assert.equal(lock.pid, holder.pid);
  assert.ok(lock.host.length > 0 && !Number.isNaN(Date.parse(lock.started)));
  oneLineError(runCli(['train', ...data, '--out', out]), 2, new RegExp(`^cnn: (?:error: )?${out} is in use by process ${holder.pid} on `));
  holder.kill('SIGKILL');
  await once(holder, 'exit');
  const r = runCli(['train', ...data, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(epochsIn(out), [1]);
  assert.ok(!existsSync(join(out, '.lock')), 'a finished run releases its lock');
});

test('--out of an existing run refuses unless --resume or --overwrite', () => {
  const out = join(dir, 'existing');
  assert.equal(runCli(['train', ...data, '--epochs', '2', '--out', out]).status, 0);
  const before = readFileSync(join(out, 'best.bin'));
  oneLineError(runCli(['train', ...data, '--out', out]), 2, /already holds a run \(args\.json, metrics\.csv, last\.bin, best\.bin, curves\.png\); pass --resume .*last\.bin to continue it or --overwrite/);
  assert.deepEqual(readFileSync(join(out, 'best.bin')), before, 'the refused run touched nothing');
  assert.deepEqual(epochsIn(out), [1, 2]);
  // A dead writer's temp file is cleaned by the next run in the folder.
  const stale = join(out, `last.bin.tmp-999999999-${hostname().replace(/[^A-Za-z0-9.-]/g, '_')}`);
  writeFileSync(stale, 'half a checkpoint');
  const resumed = runCli(['train', '--resume', join(out, 'last.bin'), '--epochs', '3', '--quiet']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.deepEqual(epochsIn(out), [1, 2, 3]);
  assert.ok(!existsSync(stale));
  const overwritten = runCli(['train', ...data, '--out', out, '--overwrite']);
  assert.equal(overwritten.status, 0, overwritten.stderr);
  assert.deepEqual(epochsIn(out), [1], 'the overwritten run starts its metrics afresh');
  assert.equal((loadCheckpoint(join(out, 'last.bin')).training as { epoch: number }).epoch, 1);
});

test('--out that is a file or cannot be a folder is one line and exit 2, at once', () => {
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  oneLineError(runCli(['train', ...data, '--out', file]), 2, /^cnn: (?:error: )?--out .*a-file is a file, not a folder/);
  oneLineError(runCli(['train', ...data, '--out', '/proc/cnn-test-run']), 2, /^cnn: (?:error: )?--out: cannot create folder \/proc\/cnn-test-run/);
});

test('default runs/<model>-<dataset>-N takes the next free N, and a failed run leaves no empty folder', () => {
  const cwd = scratchDir('cnn-runs-');
  assert.equal(runCli(['train', ...data], {}, cwd).status, 0);
  assert.equal(runCli(['train', ...data], {}, cwd).status, 0);
  assert.deepEqual(readdirSync(join(cwd, 'runs')).sort(), ['lenet5-imagefolder-1', 'lenet5-imagefolder-2']);
  const bad = runCli(['train', ...data, '--num-classes', '1'], {}, cwd);
  assert.equal(bad.status, 2, bad.stderr);
  assert.deepEqual(readdirSync(join(cwd, 'runs')).sort(), ['lenet5-imagefolder-1', 'lenet5-imagefolder-2']);
});
