// --profile: the profiler's categories, phases and layers from real training steps, the native
// timers behind the GEMM/packing split, that profiling off leaves no trace, and the CLI output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { benchTrainStep } from '../../src/bench/train.js';
import { native } from '../../src/tensor/native.js';
import { activeProfiler, bindingFrame, PROFILE_CATEGORIES, type ProfileReport } from '../../src/tensor/profile.js';
import { buildModel } from '../../src/models/registry.js';
import { crossEntropy } from '../../src/tensor/loss.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { profileModel } from '../../src/nn/profile.js';
import { runCli } from '../helpers/cli.js';
import { scratchDir } from '../helpers/tmp.js';

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

function checkReport(r: ProfileReport, steps: number): void {
  assert.equal(r.steps, steps);
  assert.deepEqual(r.categories.map((c) => c.name), [...PROFILE_CATEGORIES]);
  // Exclusive categories: they add up to the profiled time.
  assert.ok(Math.abs(sum(r.categories.map((c) => c.share)) - 1) < 1e-9);
  assert.ok(Math.abs(sum(r.categories.map((c) => c.ms)) - r.stepMs) < 1e-6 * r.stepMs);
  for (const c of r.categories) assert.ok(c.ms >= 0 && c.share >= 0, `${c.name} ${c.ms}`);
}

test('bench train --profile: every category, the native GEMM timers, each conv layer forward and backward', async () => {
  const original = native.conv2dForward;
  const r = await benchTrainStep('train', { model: 'lenet5', input: [1, 28, 28], batch: 16, steps: 3, profile: true });
  const p = r.profile!;
  checkReport(p, 3);
  const ms = (name: string) => p.categories.find((c) => c.name === name)!.ms;
  // lenet5's convolutions and linear layers are GEMMs; Adam is the optimizer.
  assert.ok(ms('gemm') > 0 && ms('packing/im2col') > 0 && ms('elementwise') > 0 && ms('optimizer') > 0 && ms('loss') > 0);
  // The profiled steps follow the timed ones: steady state, every buffer recycled.
  assert.equal(p.allocations, 0);
  assert.equal(p.allocatedMb, 0);
  for (const phase of ['forward', 'backward', 'optimizer'] as const) assert.ok(p.phases.find((f) => f.name === phase)!.ms > 0, phase);
  const conv = p.layers.filter((l) => l.type === 'Conv2d');
  assert.equal(conv.length, 2);
  for (const l of conv) assert.ok(l.forwardMs > 0 && l.backwardMs > 0, l.name);
  assert.ok(p.layers.some((l) => l.name === 'features.0'), p.layers.map((l) => l.name).join(' '));
  // Stopped: the bindings are the addon's own again and nothing records layers.
  assert.equal(native.conv2dForward, original);
  assert.equal(activeProfiler(), null);
});

test('without a profiler, tape nodes carry no layer and the native timers stay at zero', () => {
  native.profileRead(true);
  const model = buildModel('lenet5', { numClasses: 10, inChannels: 1 });
  const loss = crossEntropy(model.call(Tensor.randn([2, 1, 28, 28])), Int32Array.of(1, 2));
  assert.equal(loss.gradFn!.layer, undefined);
  loss.backward();
  assert.deepEqual(native.profileRead(true), { gemmKernel: 0, packing: 0, im2col: 0 });
});

test('a profiler times only between beginStep and endStep, and only one runs at a time', async () => {
  const model = buildModel('lenet5', { numClasses: 10, inChannels: 1 });
  const profiler = profileModel(model);
  assert.throws(() => profileModel(model), /already running/);
  model.call(Tensor.randn([2, 1, 28, 28]));
  profiler.beginStep();
  model.call(Tensor.randn([2, 1, 28, 28]));
  profiler.endStep();
  const r = await profiler.stop();
  checkReport(r, 1);
  assert.ok(r.layers.every((l) => l.backwardMs === 0));
  assert.equal(activeProfiler(), null);
});

test('cnn train --profile prints the table after the run, and --json a profile event with the data wait', () => {
  const out = scratchDir('cnn-profile-');
  const plain = runCli(['train', '--epochs', '1', '--out', join(out, 'a'), '--profile'], { CI: 'true' });
  assert.equal(plain.status, 0, plain.stderr);
  assert.match(plain.stdout, /^profile: \d+ steps/m);
  assert.match(plain.stdout, /^data wait +\d+\.\d+ +\d+\.\d%$/m);
  assert.match(plain.stdout, /^features\.0 +Conv2d +\d+\.\d+ +\d+\.\d+/m);
  // 10,000 images in batches of 50: every step the same size.
  const json = runCli(['train', '--epochs', '1', '--batch-size', '50', '--out', join(out, 'b'), '--profile', '--json'], { CI: 'true' });
  assert.equal(json.status, 0, json.stderr);
  const events = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string } & Partial<ProfileReport>);
  const profile = events.find((e) => e.event === 'profile')!;
  assert.ok(profile, json.stdout);
  checkReport(profile as ProfileReport, profile.steps!);
  assert.ok(profile.steps! > 0);
  // The trainer's steps recycle their buffers: no tensor storage allocated after the first two.
  assert.equal(profile.allocations, 0);
});

test('cnn bench train --profile --json carries the report', () => {
  const r = runCli(['bench', 'train', '--model', 'lenet5', '--batch', '8', '--steps', '2', '--profile', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { profile: ProfileReport };
  checkReport(result.profile, 2);
});

test('every binding that convolves or multiplies matrices is timed as convolution, not elementwise', () => {
  // conv2dMappedForward (DenseNet's eval) once fell through to elementwise: half of a DenseNet eval step.
  const computing = /^(conv2d|convnextMlp|invertedResidual|gemm|linear|smallNet|denseLayer)/, sizesOnly = /Ref|Floats$|PackedLength$/;
  const names = Object.keys(native).filter((name) => typeof (native as unknown as Record<string, unknown>)[name] === 'function');
  const convolving = names.filter((name) => computing.test(name) && !sizesOnly.test(name));
  assert.ok(['conv2dMappedForward', 'gemm', 'denseLayerSmallForward'].every((n) => convolving.includes(n)), convolving.join(' '));
  for (const name of convolving) assert.equal(bindingFrame(name), 'conv', name);
  assert.equal(bindingFrame('reluForward'), 'elementwise');
  assert.equal(bindingFrame('adamStep'), 'optimizer');
});
