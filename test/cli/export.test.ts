// `cnn export`: one line on success, an ONNX file that onnxruntime runs to the checkpoint's own
// outputs with the class names and preprocessing in its metadata; bad options are one line, exit 2.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { withTempDir } from '../helpers/tmp.js';
import { assertClose } from '../helpers/assert.js';
import { runOnnx } from '../helpers/onnxruntime.js';
import { onnxMetadata } from '../helpers/protobuf-reader.js';
import { fillDeterministic } from '../helpers/deterministic-weights.js';
import { buildModel } from '../../src/models/registry.js';
import { withoutInit } from '../../src/nn/init.js';
import { saveCheckpoint, modelFromCheckpoint, type DatasetFacts } from '../../src/train/checkpoint.js';
import { Tensor, noGrad } from '../../src/tensor/tensor.js';
import { softmax } from '../../src/tensor/activation.js';

const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
let tmp: { dir: string; cleanup: () => void };
let lenet: string, simplecnn: string;

function writeCheckpoint(file: string, name: string, inputShape: [number, number, number]): void {
  const model = buildModel(name, { numClasses: 10, inChannels: inputShape[0] });
  fillDeterministic(model, 2);
  const c = inputShape[0];
  const dataset: DatasetFacts = { name: 'fixture', classes: CLASSES, mean: Array(c).fill(0.286), std: Array(c).fill(0.353), inputShape };
  saveCheckpoint(file, model, { name, numClasses: 10, inChannels: c }, dataset);
}

function images(n: number, shape: readonly number[]): Tensor {
  const size = n * shape.reduce((a, b) => a * b, 1);
  return new Tensor(Float32Array.from({ length: size }, (_, i) => Math.cos(0.11 * ((i * 7) % 1009))), [n, ...shape]);
}

before(() => {
  tmp = withTempDir();
  lenet = path.join(tmp.dir, 'lenet.bin');
  simplecnn = path.join(tmp.dir, 'simplecnn.bin');
  writeCheckpoint(lenet, 'lenet5', [1, 28, 28]);
  writeCheckpoint(simplecnn, 'simplecnn', [3, 32, 32]);
});
after(() => tmp.cleanup());

test('cnn export writes an ONNX file onnxruntime runs to the checkpoint\'s logits, with class names and preprocessing', async () => {
  const out = path.join(tmp.dir, 'lenet.onnx');
  const r = runCli(['export', lenet, '--onnx', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^wrote .*lenet\.onnx: lenet5, opset 17, input \[batch, 1, 28, 28\] → logits \[batch, 10\], \d+ nodes, 44,426 parameters, [\d.]+ MiB\n$/);
  const bytes = readFileSync(out);
  const meta = onnxMetadata(bytes);
  assert.deepEqual(JSON.parse(meta.classes), CLASSES);
  assert.deepEqual(JSON.parse(meta.mean), [0.286]);
  assert.deepEqual(JSON.parse(meta.std), [0.353]);
  assert.deepEqual(JSON.parse(meta.input_shape), ['batch', 1, 28, 28]);
  assert.equal(meta.input_name, 'input');
  assert.equal(meta.output_name, 'logits');
  assert.match(meta.preprocessing, /grayscale .* 28x28.*\/255.*mean.*std/);
  assert.equal(JSON.parse(meta.model).name, 'lenet5');
  const { model } = modelFromCheckpoint(lenet);
  const x = images(4, [1, 28, 28]);
  assertClose(await runOnnx(bytes, x), noGrad(() => model.call(x)), { atol: 1e-4, rtol: 0 }, 'lenet5 logits');
  assert.deepEqual(readdirSync(tmp.dir).filter((f) => f.includes('.tmp')), [], 'no temporary file left behind');
});

test('cnn export --fold-bn --softmax --batch 2 --opset 19', async () => {
  const out = path.join(tmp.dir, 'simplecnn.onnx');
  const r = runCli(['export', simplecnn, '--onnx', out, '--fold-bn', '--softmax', '--batch', '2', '--opset', '19', '--threads', '1']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^wrote .*: simplecnn, opset 19, input \[2, 3, 32, 32\] → probabilities \[2, 10\], \d+ nodes \(5 BatchNorm folded\), 1,194,282 parameters/);
  const { model } = modelFromCheckpoint(simplecnn);
  const x = images(2, [3, 32, 32]);
  const bytes = readFileSync(out);
  assertClose(await runOnnx(bytes, x), noGrad(() => softmax(model.call(x), -1)), { atol: 1e-4, rtol: 0 }, 'simplecnn probabilities');
  assert.equal(onnxMetadata(bytes).output_name, 'probabilities');
});

test('a layer the requested opset cannot express is refused by its name with exit code 2, and nothing is written', () => {
  const file = path.join(tmp.dir, 'convnext.bin');
  const out = path.join(tmp.dir, 'convnext.onnx');
  const model = withoutInit(() => buildModel('convnext_tiny', { numClasses: 3 }));
  saveCheckpoint(file, model, { name: 'convnext_tiny', numClasses: 3, inChannels: 3 }, { name: 'fixture', classes: ['a', 'b', 'c'], mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], inputShape: [3, 32, 32] });
  const r = runCli(['export', file, '--onnx', out, '--opset', '16']);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /cannot export layer 'features\.0\.1' \(LayerNorm2d\) to ONNX: LayerNormalization needs --opset 17/);
  assert.ok(!existsSync(out));
});

test('bad options and inputs are one line and exit code 2, and write nothing', () => {
  const out = path.join(tmp.dir, 'never.onnx');
  const notCheckpoint = path.join(tmp.dir, 'plain.txt');
  writeFileSync(notCheckpoint, 'not a checkpoint');
  const cases: [string[], RegExp][] = [
    [['export', lenet, '--onnx', out, '--opset', '12'], /opset/],
    [['export', lenet, '--onnx', out, '--batch', '0'], /batch/],
    [['export', lenet, '--onnx', out, '--batch', 'any'], /batch/],
    [['export', lenet, '--onnx', out, '--threads', '0'], /threads/],
    [['export', lenet], /--onnx/],
    [['export', path.join(tmp.dir, 'missing.bin'), '--onnx', out], /missing\.bin/],
    [['export', notCheckpoint, '--onnx', out], /plain\.txt/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, message);
    assert.ok(!existsSync(out), `${args.join(' ')} wrote nothing`);
  }
});
