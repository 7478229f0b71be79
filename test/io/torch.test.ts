// The restricted .pth reader and loadWeights against files PyTorch wrote
// (test/fixtures/gen_torch_files.py), and the malicious files it must refuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Tensor } from '../../src/tensor/tensor.js';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { loadTorchFile } from '../../src/io/torch.js';
import { loadWeights, WeightsError } from '../../src/io/weights.js';
import { Module } from '../../src/nn/module.js';
import { Conv2d } from '../../src/nn/conv.js';
import { BatchNorm2d } from '../../src/nn/norm.js';
import { Linear } from '../../src/nn/linear.js';
import { adaptInputConv } from '../../src/nn/adapt-input.js';
import { buildModel } from '../../src/models/registry.js';
import { repoRoot } from '../helpers/fixtures.js';
import { withTempDir } from '../helpers/tmp.js';
import { encodeTorchStateDict } from '../helpers/torch-zip.js';

const dir = path.join(repoRoot, 'test/fixtures/torch');
const fixture = (name: string) => path.join(dir, name);
const expected = loadSafetensors(fixture('small_expected.safetensors')).tensors;

/** The fixture's model (gen_torch_files.py's Small), built from our layers. */
class Small extends Module {
  conv1 = new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, bias: false });
  bn1 = new BatchNorm2d({ numFeatures: 4 });
  fc = new Linear({ inFeatures: 16, outFeatures: 3 });
  forward(x: Tensor): Tensor {
    return this.fc.call(this.bn1.call(this.conv1.call(x)));
  }
}

function bitsEqual(a: Tensor, b: Tensor, label: string): void {
  assert.deepEqual([...a.shape], [...b.shape], label);
  assert.ok(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength)), `${label}: values differ`);
}

for (const [tag, suffix, dtype] of [['f32', '', 'F32'], ['f16', '_f16', 'F16'], ['bf16', '_bf16', 'BF16']] as const) {
  test(`torch.save state dict (${dtype}) as .pth and as plain safetensors load to torch's own float values`, () => {
    for (const file of [`small${suffix}.pth`, `small${suffix}.safetensors`]) {
      const w = loadWeights(fixture(file));
      assert.equal(w.format, file.endsWith('.pth') ? 'pytorch' : 'safetensors');
      assert.deepEqual([...w.tensors.keys()], ['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked', 'fc.weight', 'fc.bias']);
      for (const [k, t] of w.tensors) bitsEqual(t, expected.get(`${tag}/${k}`)!, `${file} ${k}`);
      assert.equal(w.dtypes.get('conv1.weight'), dtype);
      assert.equal(w.dtypes.get('bn1.num_batches_tracked'), 'I64');
      const model = new Small();
      const report = model.loadStateDict(w.tensors);
      assert.equal(report.loaded.length, 8);
      bitsEqual(model.bn1.runningVar!, expected.get(`${tag}/bn1.running_var`)!, 'running_var in the model');
    }
  });
}

test('a state dict wrapped in a training checkpoint is found under state_dict; other entries are named', () => {
  const t = loadTorchFile(fixture('wrapped.pth'));
  assert.equal(t.foundUnder, 'state_dict');
  assert.deepEqual(t.ignored, ['epoch']);
  for (const [k, v] of t.tensors) bitsEqual(v, expected.get(`f32/${k}`)!, k);
});

test('views of shared storages (transpose, slices at offsets, a 0-d element) come out as torch gives them', () => {
  const t = loadTorchFile(fixture('views.pth'));
  const want = loadSafetensors(fixture('views_expected.safetensors')).tensors;
  assert.deepEqual([...t.tensors.keys()], [...want.keys()]);
  for (const [k, v] of t.tensors) bitsEqual(v, want.get(k)!, k);
});

test('the test writer reproduces torch.save byte for byte (so the resnet18 files it writes are what torch writes)', () => {
  const f32 = new Map([...expected].filter(([k]) => k.startsWith('f32/')).map(([k, v]) => [k.slice(4), v]));
  const bytes = encodeTorchStateDict([...f32].map(([key, tensor]) => ({ key, tensor, dtype: key.endsWith('num_batches_tracked') ? 'I64' as const : 'F32' as const })),
    'small', [['', 1], ['conv1', 1], ['bn1', 2], ['fc', 1]]);
  assert.ok(bytes.equals(readFileSync(fixture('small.pth'))), 'differs from torch.save output');
});

test('resnet18 weights written in torch layout load bit for bit into a fresh resnet18', () => {
  const source = buildModel('resnet18', { numClasses: 1000 });
  const int64 = source.int64Keys();
  const { dir: tmp, cleanup } = withTempDir();
  try {
    const file = path.join(tmp, 'resnet18.pth');
    writeFileSync(file, encodeTorchStateDict([...source.stateDict()].map(([key, tensor]) => ({ key, tensor, dtype: int64.has(key) ? 'I64' as const : 'F32' as const })), 'resnet18'));
    const w = loadWeights(file);
    const target = buildModel('resnet18', { numClasses: 1000 });
    const report = target.loadStateDict(w.tensors);
    assert.equal(report.loaded.length, 122);
    for (const [k, t] of target.stateDict()) bitsEqual(t, source.stateDict().get(k)!, k);
  } finally {
    cleanup();
  }
});

test('grayscale models take RGB weights: the first convolution sums the RGB filters (timm), the rest is untouched', () => {
  const w = loadWeights(fixture('small.pth'));
  const gray = new Small();
  gray.conv1 = new Conv2d({ inChannels: 1, outChannels: 4, kernelSize: 3, bias: false });
  const adapted = adaptInputConv(gray, w.tensors);
  assert.equal(adapted.note, "conv1.weight: the 3 RGB filters summed into 1 channel (timm's adapt_input_conv)");
  const rgb = w.tensors.get('conv1.weight')!;
  const sum = adapted.tensors.get('conv1.weight')!;
  assert.deepEqual([...sum.shape], [4, 1, 3, 3]);
  for (let o = 0; o < 4; o++) {
    for (let i = 0; i < 9; i++) {
      const want = Math.fround(Math.fround(rgb.data[o * 27 + i] + rgb.data[o * 27 + 9 + i]) + rgb.data[o * 27 + 18 + i]);
      assert.equal(sum.data[o * 9 + i], want);
    }
  }
  gray.loadStateDict(adapted.tensors);
  for (const k of ['bn1.running_mean', 'fc.weight']) assert.equal(adapted.tensors.get(k), w.tensors.get(k));
  // An RGB model needs nothing.
  assert.equal(adaptInputConv(new Small(), w.tensors).note, null);
  // A gray image through the adapted filter gives what the RGB filters give the same image in all three channels.
  const x = Tensor.rand([1, 1, 5, 5]);
  const rgbModel = new Small().eval();
  rgbModel.loadStateDict(w.tensors);
  gray.eval();
  const x3 = new Tensor(new Float32Array([...x.data, ...x.data, ...x.data]), [1, 3, 5, 5]);
  const a = gray.conv1.call(x).data, b = rgbModel.conv1.call(x3).data;
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-5));
});

/** Every refusal is one line that names the file, and a WeightsError (exit 2 at the CLI). */
function refuses(name: string, pattern: RegExp): void {
  assert.throws(() => loadWeights(fixture(name)), (e: Error) => {
    assert.ok(e instanceof WeightsError, `${name}: ${e.constructor.name}: ${e.message}`);
    assert.ok(!e.message.includes('\n'), `${name}: more than one line`);
    assert.ok(e.message.includes(name), `${name}: the message does not name the file: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test('a pickle that asks for os.system is refused by name and runs nothing', () => {
  const { dir: tmp, cleanup } = withTempDir();
  const cwd = process.cwd();
  try {
    process.chdir(tmp);
    refuses('evil_global.pth', /asks for posix\.system, which a state dict never needs .*nothing from the file was run/);
    assert.equal(existsSync(path.join(tmp, 'pwned-by-pth')), false);
  } finally {
    process.chdir(cwd);
    cleanup();
  }
});

test('malicious and broken files: one line each', () => {
  refuses('evil_offset.pth', /tensor 'w' reaches element 11 of storage '0', which holds 4/);
  refuses('evil_size.pth', /tensor 'w' has size \[1099511627776, 1099511627776\], too large to load/);
  refuses('evil_truncated.pth', /no ZIP end-of-directory record \(truncated or not a ZIP archive\)/);
  refuses('evil_bomb.pth', /storage '0' declares 67108864 bytes from \d+ compressed, .*\(a zip bomb\?\)/);
  refuses('legacy.pth', /legacy \(pre-1\.6, non-zip\) PyTorch file; re-save it/);
  const { dir: tmp, cleanup } = withTempDir();
  try {
    writeFileSync(path.join(tmp, 'notes.txt'), 'hello, these are not weights');
    assert.throws(() => loadWeights(path.join(tmp, 'notes.txt')), /notes\.txt is neither a safetensors file nor a PyTorch \.pth\/\.pt \(zip\) file/);
    assert.throws(() => loadWeights(path.join(tmp, 'missing.pth')), /cannot read .*missing\.pth: ENOENT/);
    // every cut of a real file is refused cleanly, never a crash or a wrong tensor
    const whole = readFileSync(fixture('small.pth'));
    for (let cut = 1; cut < whole.length; cut += 97) {
      writeFileSync(path.join(tmp, 'cut.pth'), whole.subarray(0, cut));
      assert.throws(() => loadWeights(path.join(tmp, 'cut.pth')), WeightsError);
    }
    // a flipped byte in a storage fails the CRC
    const flipped = Buffer.from(whole);
    const at = flipped.indexOf(Buffer.from('small/data/0')) + 200;
    flipped[at] ^= 0xff;
    writeFileSync(path.join(tmp, 'flipped.pth'), flipped);
    assert.throws(() => loadWeights(path.join(tmp, 'flipped.pth')), /fails its CRC-32 check/);
  } finally {
    cleanup();
  }
});
