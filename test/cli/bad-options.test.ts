// Every bad option or input file we know of, run through the real `cnn`: exactly one stderr line
// starting `cnn: `, naming what is wrong, and exit code 2 (before any training starts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { runCli } from '../helpers/cli.js';
import { withTempDir } from '../helpers/tmp.js';

const tmp = withTempDir();
after(tmp.cleanup);

// A tiny folder of 32×32 RGB images, two classes.
const rgbFolder = join(tmp.dir, 'rgb');
before(async () => {
  for (const cls of ['cat', 'dog']) {
    mkdirSync(join(rgbFolder, cls), { recursive: true });
    for (let i = 0; i < 2; i++) {
      const pixels = Buffer.alloc(32 * 32 * 3, cls === 'cat' ? 40 + i : 200 - i);
      await sharp(pixels, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(join(rgbFolder, cls, `${i}.png`));
    }
  }
});

const model = { name: 'lenet5', numClasses: 10, inChannels: 1 };
const dataset = { name: 'fashion-mnist-mini', classes: 'abcdefghij'.split(''), mean: [0.5], std: [0.5], inputShape: [1, 28, 28] };
const training = {
  epoch: 1, bestAcc: 0.5, bestEpoch: 1, epochsWithoutImprovement: 0, config: {}, optimizer: { groups: [], step: [] },
  schedule: {}, rng: { words: [1, 2, 3, 4], spareNormal: null }, batchesPerEpoch: 10,
};

/** A checkpoint whose metadata is `meta` (values JSON-encoded unless already strings). */
function checkpoint(name: string, meta: Record<string, unknown>, bias = Tensor.zeros([10])): string {
  const path = join(tmp.dir, `${name}.bin`);
  const metadata = Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  saveSafetensors(path, { 'fc.bias': bias }, { format: 'cnn-checkpoint-1', ...metadata });
  return path;
}

/** A folder holding `files` (name → content). */
function folder(name: string, files: Record<string, string>): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
  return dir;
}

/** A safetensors state dict whose keys match no model. */
function stateDict(name: string): string {
  const path = join(tmp.dir, `${name}.safetensors`);
  saveSafetensors(path, { 'nothing.weight': Tensor.zeros([2]) });
  return path;
}

const cases: { args: () => string[]; message: RegExp; env?: Record<string, string> }[] = [
  // Issue 10 and issue 12 item 10.
  { args: () => ['train', '--threads', '1e9'], message: /threads/ },
  { args: () => ['train', '--num-classes', '1e9'], message: /--num-classes/ },
  { args: () => ['train', '--image-size', '1e9'], message: /--image-size/ },
  { args: () => ['train', '--random-crop', '100000'], message: /--random-crop/ },
  { args: () => ['train', '--rotation', '1e9'], message: /--rotation/ },
  { args: () => ['train', '--model', 'lenet5', '--stem', 'cifar'], message: /--stem applies to ResNets only/ },
  { args: () => ['train', '--model', 'resnet18', '--image-size', '2048'], message: /--image-size/ },
  { args: () => ['train', '--scheduler', 'onecycle', '--div-factor', '0'], message: /--div-factor/ },
  { args: () => ['train', '--scheduler', 'onecycle', '--div-factor', '-1'], message: /--div-factor/ },
  // Values and combinations the run spec refuses.
  { args: () => ['train', '--epochs', '0'], message: /--epochs/ },
  { args: () => ['train', '--lr', 'abc'], message: /--lr/ },
  { args: () => ['train', '--lr', '-1'], message: /--lr/ },
  { args: () => ['train', '--optimizer', 'rmsprop'], message: /--optimizer/ },
  { args: () => ['train', '--scheduler', 'linear'], message: /--scheduler/ },
  { args: () => ['train', '--model', 'resnet9'], message: /--model/ },
  { args: () => ['train', '--dataset', 'imagenet'], message: /dataset/ },
  { args: () => ['train', '--augment', 'extreme'], message: /--augment/ },
  { args: () => ['train', '--betas', '0.9'], message: /--betas/ },
  { args: () => ['train', '--color-jitter', '0.1,0.1,0.1,0.9'], message: /--color-jitter/ },
  { args: () => ['train', '--hflip', '2'], message: /--hflip/ },
  { args: () => ['train', '--val-split', '1'], message: /--val-split/ },
  { args: () => ['train', '--grad-clip', '0'], message: /--grad-clip/ },
  { args: () => ['train', '--accum-steps', '0'], message: /--accum-steps/ },
  { args: () => ['train', '--class-weights', '1,2'], message: /--class-weights has 2 weights but the model has 10 classes/ },
  { args: () => ['train', '--class-weights', 'x'], message: /--class-weights/ },
  { args: () => ['train', '--sampler', 'random'], message: /--sampler/ },
  { args: () => ['train', '--ema', '1.5'], message: /--ema/ },
  { args: () => ['train', '--mixup', '-1'], message: /--mixup/ },
  { args: () => ['train', '--switch-prob', '2'], message: /--switch-prob/ },
  { args: () => ['train', '--ema-eval', 'best'], message: /--ema-eval/ },
  { args: () => ['train', '--dropout', '0.2'], message: /--dropout applies to .*mobilenet_v3_small.*, not lenet5/ },
  { args: () => ['train', '--drop-path', '0.1', '--model', 'densenet121'], message: /--drop-path applies to .*convnext_tiny.*, not densenet121/ },
  { args: () => ['train', '--dropout', '1.5', '--model', 'densenet121'], message: /--dropout/ },
  { args: () => ['train', '--grad-clip-value', '-1'], message: /--grad-clip-value/ },
  { args: () => ['train', '--momentum', '0.5'], message: /--momentum is an option of sgd; it has no effect with --optimizer adam/ },
  { args: () => ['train', '--gamma', '0.5', '--scheduler', 'cosine'], message: /--gamma .* no effect with --scheduler cosine/ },
  { args: () => ['train', '--nesterov', '--optimizer', 'adam'], message: /--nesterov/ },
  { args: () => ['train', '--scheduler', 'multistep'], message: /--milestones/ },
  { args: () => ['train', '--warmup-epochs', '5', '--epochs', '5'], message: /--warmup-epochs/ },
  { args: () => ['train', '--no-such-option'], message: /unknown option/ },
  { args: () => ['train', '--val-split', '0.00001'], message: /--val-split 0.00001 leaves 0 of 10000 images/ },
  { args: () => ['train', '--dataset', 'imagefolder', '--data-dir', rgbFolder, '--val-split', '0.5', '--image-size', '32'], message: /lenet5 is built for 28×28 images and cannot take imagefolder's 32×32 .*pass --image-size 28/ },
  { args: () => ['train', '--resume', join(tmp.dir, 'missing.bin')], message: /missing\.bin/ },
  // Checkpoints with missing, null or wrong metadata.
  { args: () => ['eval', checkpoint('null-model', { model: 'null', dataset })], message: /'model' metadata: not an object/ },
  { args: () => ['eval', checkpoint('no-dataset', { model })], message: /no 'dataset' in its metadata/ },
  { args: () => ['predict', checkpoint('bad-classes', { model: { ...model, numClasses: 1e9 }, dataset }), 'x.png'], message: /numClasses/ },
  { args: () => ['predict', checkpoint('short-dataset', { model, dataset: { name: 'x', classes: ['a'] } }), 'x.png'], message: /inputShape/ },
  { args: () => ['train', '--resume', checkpoint('string-epoch', { model, dataset, training: { ...training, epoch: '1' } })], message: /epoch "1" is not a whole number/ },
  { args: () => ['train', '--resume', checkpoint('no-training', { model, dataset })], message: /holds no training state/ },
  // Other commands.
  { args: () => ['predict', 'x.bin', 'x.png', '--top-k', '0'], message: /top-k/ },
  { args: () => ['eval', 'x.bin', '--batch-size', '0'], message: /batch-size/ },
  { args: () => ['summary', '--model', 'resnet9'], message: /unknown model/ },
  { args: () => ['summary', '--model', 'lenet5', '--stem', 'cifar'], message: /--stem applies to ResNets only/ },
  { args: () => ['summary', '--model', 'lenet5', '--input', '3x0x2'], message: /--input/ },
  { args: () => ['doctor', '--threads', '0'], message: /threads/ },
  { args: () => ['gradcam', 'x.png', '--alpha', '2'], message: /--alpha/ },
  { args: () => ['features', 'x.png', '--threads', '2000', '--layers', 'features.0'], message: /threads/ },
  { args: () => ['bench', 'train', '--model', 'resnet9'], message: /unknown model/ },
  { args: () => ['datasets', 'download', 'imagenet'], message: /unknown dataset/ },
  // The README's refusals (cnn train, lr-find, Options everywhere).
  { args: () => ['train', '--out', folder('old-run', { 'metrics.csv': 'epoch\n' })], message: /already holds a run \(metrics.csv\).*--overwrite/ },
  { args: () => ['train', '--out', folder('live-run', { '.lock': JSON.stringify({ pid: process.pid, host: hostname(), started: 'now' }) }), '--overwrite'], message: /is in use by process/ },
  { args: () => ['train', '--backbone-lr', '0.001', '--freeze-backbone'], message: /--backbone-lr/ },
  { args: () => ['train', '--max-memory', '1K'], message: /--max-memory/ },
  { args: () => ['train', '--max-memory', 'lots'], message: /--max-memory/ },
  { args: () => ['train', '--resume', checkpoint('resumable', { model, dataset, training: { ...training, config: { lr: 0.01 } } }), '--lr', '0.5'], message: /--resume continues a run with its recorded options, and these differ: --lr 0.5/ },
  { args: () => ['eval', checkpoint('nonfinite', { model, dataset }, Tensor.full([10], Number.NaN))], message: /NaN|non-finite|allow-nonfinite/ },
  { args: () => ['train', '--init', stateDict('foreign'), '--epochs', '1'], message: /nothing\.weight/ },
  { args: () => ['train', '--pretrained', '--init', stateDict('both')], message: /--pretrained/ },
  { args: () => ['train', '--normalize', 'sometimes'], message: /--normalize/ },
  { args: () => ['train', '--unfreeze-at', '3'], message: /--unfreeze-at/ },
  { args: () => ['lr-find', '--epochs', '3'], message: /--epochs/ },
  { args: () => ['lr-find', '--scheduler', 'cosine'], message: /--scheduler/ },
  { args: () => ['lr-find', '--ema', '0.99'], message: /--ema/ },
  { args: () => ['lr-find', '--accum-steps', '2'], message: /--accum-steps/ },
  { args: () => ['lr-find', '--steps', '0'], message: /--steps/ },
  // Every command's own rows refuse bad values as they are parsed.
  { args: () => ['eval', 'x.bin', '--val-split', '2'], message: /Expected a number in \[0, 1\) for --val-split but received 2/ },
  { args: () => ['eval', 'x.bin', '--crop', '0'], message: /--crop/ },
  { args: () => ['predict', 'x.bin', 'x.png', '--top-k', 'many'], message: /--top-k/ },
  { args: () => ['gradcam', 'x.png', '--method', 'cam'], message: /Expected one of gradcam, gradcam\+\+ for --method but received 'cam'/ },
  { args: () => ['gradcam', 'x.png', '--max-pixels', '0'], message: /--max-pixels/ },
  { args: () => ['features', 'x.png'], message: /required option '--layers <paths>' not specified/ },
  { args: () => ['features', 'x.png', '--layers', 'conv1', '--channels', '0'], message: /--channels/ },
  { args: () => ['export', 'x.bin'], message: /required option '--onnx <file>' not specified/ },
  { args: () => ['export', 'x.bin', '--onnx', 'x.onnx', '--opset', '12'], message: /Expected an integer between 13 and 21 for --opset but received 12/ },
  { args: () => ['export', 'x.bin', '--onnx', 'x.onnx', '--batch', '0'], message: /'dynamic' or an integer between 1 and 65536 for --batch/ },
  { args: () => ['summary', '--model', 'lenet5', '--num-classes', '0'], message: /--num-classes/ },
  { args: () => ['bench', 'gemm', '--sizes', '0,256'], message: /--sizes/ },
  { args: () => ['bench', 'data', '--augment', 'extreme'], message: /--augment/ },
  { args: () => ['bench', 'ops', '--batch', '0'], message: /--batch/ },
  { args: () => ['bench', 'ops', '--rounds', '0'], message: /--rounds/ },
  { args: () => ['bench', 'eval', '--model', 'lenet5', '--steps', '0'], message: /--steps/ },
  { args: () => ['bench', 'train'], message: /required option '--model <name>' not specified/ },
  { args: () => ['models', '--threads', '2'], message: /unknown option '--threads'/ },
  { args: () => ['no-such-command'], message: /unknown command/ },
  // Options everywhere: the environment's settings.
  { args: () => ['doctor'], env: { CNN_THREADS: 'lots' }, message: /CNN_THREADS must be an integer between 1 and 1024 but is 'lots'/ },
  { args: () => ['doctor'], env: { CNN_ISA: 'sse9' }, message: /CNN_ISA/ },
  { args: () => ['doctor'], env: { CNN_CONV_ALGO: 'fastest' }, message: /CNN_CONV_ALGO: unknown/ },
  { args: () => ['doctor'], env: { CNN_WINOGRAD_TRAINING: 'yes' }, message: /CNN_WINOGRAD_TRAINING: expected 0 or 1, got 'yes'/ },
];

for (const c of cases) {
  const env = Object.entries(c.env ?? {}).map(([k, v]) => `${k}=${v} `).join('');
  test(`${env}cnn ${c.args().map((a) => a.replace(tmp.dir, '…')).join(' ')} → one line, exit 2`, () => {
    const r = runCli(c.args(), { CI: 'true', ...c.env });
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^cnn: /);
    assert.doesNotMatch(lines[0], /^cnn: error:/);
    assert.match(lines[0], c.message);
    assert.equal(r.status, 2, r.stderr);
  });
}

test('CNN_DEBUG=1 adds the stack; without it there is none', () => {
  const plain = runCli(['train', '--epochs', '0']);
  assert.doesNotMatch(plain.stderr, /\n\s+at /);
  const debug = runCli(['train', '--epochs', '0'], { CNN_DEBUG: '1' });
  assert.match(debug.stderr, /\n\s+at /);
  assert.equal(debug.status, 2);
});
