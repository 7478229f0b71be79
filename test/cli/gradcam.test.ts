import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { runCli } from '../helpers/cli.js';
import { loadFixture, repoRoot } from '../helpers/fixtures.js';
import { assertClose } from '../helpers/assert.js';
import { withTempDir } from '../helpers/tmp.js';
import { dHash, hamming, writeHugePngHeader } from '../helpers/images.js';
import { buildModel } from '../../src/models/registry.js';
import { saveCheckpoint, type DatasetFacts } from '../../src/train/checkpoint.js';

interface FileCase { classIndex: number; probability: number; mean: number; std: number; layer: string }
const cases = loadFixture<FileCase>('gradcam.safetensors');
const fileCase = cases.find((c) => c.name === 'file')!;
const images = `${repoRoot}test/fixtures/images/`;
const CLASSES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

let tmp: { dir: string; cleanup: () => void };
let checkpoint: string, picture: string;

function writeLenetCheckpoint(file: string, inChannels = 1): void {
  const model = buildModel('lenet5', { inChannels });
  if (inChannels === 1) {
    const weights = cases.find((c) => c.name === 'weights')!;
    model.loadStateDict(new Map(Object.entries(weights.t)));
  }
  const dataset: DatasetFacts = { name: 'fixture', classes: CLASSES, mean: Array(inChannels).fill(fileCase.params.mean), std: Array(inChannels).fill(fileCase.params.std), inputShape: [inChannels, 28, 28] };
  saveCheckpoint(file, model, { name: 'lenet5', numClasses: 10, inChannels }, dataset);
}

before(() => {
  tmp = withTempDir();
  checkpoint = path.join(tmp.dir, 'lenet.bin');
  writeLenetCheckpoint(checkpoint);
  picture = path.join(tmp.dir, 'picture.png');
  copyFileSync(`${images}gradcam_input.png`, picture);
});
after(() => tmp.cleanup());

interface Report { file: string; class: string; classIndex: number; probability: number; layer: string; heatmap: string; overlay: string; cam: number[][]; allZero: boolean }

async function assertLooksLike(file: string, expected: string): Promise<void> {
  const m = await sharp(file).metadata();
  assert.deepEqual([m.width, m.height, m.channels, m.format], [42, 56, 3, 'png'], file);
  const d = hamming(await dHash(file), await dHash(expected));
  assert.ok(d <= 5, `${path.basename(file)} differs from ${path.basename(expected)}: dHash distance ${d}`);
}

test('gradcam --json: the class, probability and map PyTorch gives, and the pictures at the image size', async () => {
  const out = path.join(tmp.dir, 'out');
  const r = runCli(['gradcam', picture, '--checkpoint', checkpoint, '--out', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const [rep] = JSON.parse(r.stdout) as Report[];
  assert.equal(rep.file, picture);
  assert.equal(rep.classIndex, fileCase.params.classIndex);
  assert.equal(rep.class, CLASSES[fileCase.params.classIndex]);
  assert.ok(Math.abs(rep.probability - fileCase.params.probability) < 1e-5);
  assert.equal(rep.layer, 'features.3');
  assert.equal(rep.allZero, false);
  assert.deepEqual([rep.cam.length, rep.cam[0].length], [8, 8]);
  assertClose(Float32Array.from(rep.cam.flat()), fileCase.t.cam.data, { atol: 1e-4, rtol: 0 }, 'cam');
  assert.equal(rep.heatmap, path.join(out, 'picture.gradcam.png'));
  assert.equal(rep.overlay, path.join(out, 'picture.overlay.png'));
  await assertLooksLike(rep.heatmap, `${images}gradcam_expected_heatmap.png`);
  await assertLooksLike(rep.overlay, `${images}gradcam_expected_overlay.png`);
  // The hash can tell them apart.
  assert.ok(hamming(await dHash(rep.heatmap), await dHash(`${images}gradcam_input.png`)) > 5);
});

test('gradcam text mode: newest runs/**/best.bin by default, files beside the image, --class and gradcam++', () => {
  const work = path.join(tmp.dir, 'work');
  for (const run of ['old', 'new']) mkdirSync(path.join(work, 'runs', run), { recursive: true });
  writeLenetCheckpoint(path.join(work, 'runs', 'new', 'best.bin'));
  writeFileSync(path.join(work, 'runs', 'old', 'best.bin'), 'not even a checkpoint');
  utimesSync(path.join(work, 'runs', 'old', 'best.bin'), new Date(2000, 0, 1), new Date(2000, 0, 1));
  const local = path.join(work, 'cat.png');
  copyFileSync(picture, local);
  const r = runCli(['gradcam', 'cat.png', '--class', 'three', '--method', 'gradcam++', '--alpha', '0.3'], {}, work);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /checkpoint: runs\/new\/best\.bin/);
  assert.match(r.stdout, /cat\.png: three \(class 3\) p=0\.\d{4}, layer features\.3 \(8x8\), gradcam\+\+/);
  assert.ok(existsSync(path.join(work, 'cat.gradcam.png')));
  assert.ok(existsSync(path.join(work, 'cat.overlay.png')));
  const byNumber = runCli(['gradcam', local, picture, '--checkpoint', checkpoint, '--class', '3', '--json', '--out', path.join(tmp.dir, 'o2')]);
  assert.equal(byNumber.status, 0, byNumber.stderr);
  const reps = JSON.parse(byNumber.stdout) as Report[];
  assert.deepEqual(reps.map((x) => x.classIndex), [3, 3]);
});

test('gradcam names the model it uses and warns when the image is not what the model was trained on', async () => {
  const rgb = path.join(tmp.dir, 'rgb-lenet.bin');
  writeLenetCheckpoint(rgb, 3);
  const meta = await sharp(picture).metadata();
  const r = runCli(['gradcam', picture, '--checkpoint', rgb, '--out', path.join(tmp.dir, 'o3')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /checkpoint: .*rgb-lenet\.bin, lenet5 trained on fixture \(3x28x28\)/);
  const kind = meta.channels === 1 ? 'grayscale instead of RGB and ' : '';
  assert.match(r.stdout, new RegExp(`warning: .*picture\\.png is ${kind}${meta.width}x${meta.height} instead of 28x28`));
});

test('features writes one viridis grid per layer', async () => {
  const out = path.join(tmp.dir, 'feat');
  const r = runCli(['features', picture, '--layers', 'features.0,features.3', '--channels', '4', '--checkpoint', checkpoint, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /features\.0: 6x24x24, 4 channels/);
  assert.match(r.stdout, /features\.3: 16x8x8, 4 channels/);
  for (const layer of ['features.0', 'features.3']) {
    const m = await sharp(path.join(out, `picture.${layer}.features.png`)).metadata();
    // 2x2 tiles of 72 px (24·3) or 64 px (8·8) with a 4 px gap, at least 320 px wide with margins, a title and a colour bar.
    assert.deepEqual([m.width, m.height, m.channels], [340, (layer === 'features.0' ? 148 : 132) + 30 + 46, 3]);
  }
});

test('bad input: one line, exit code 2, no stack trace', () => {
  const dir = tmp.dir;
  const text = path.join(dir, 'notes.png'), cut = path.join(dir, 'cut.png'), huge = path.join(dir, 'huge.png');
  writeFileSync(text, 'hello\n');
  const bytes = readFileSync(picture);
  writeFileSync(cut, bytes.subarray(0, bytes.length >> 1));
  writeHugePngHeader(huge, 100_000, 100_000);
  const twoChannel = path.join(dir, 'two.bin');
  writeLenetCheckpoint(twoChannel, 2);
  const ck = ['--checkpoint', checkpoint];
  // The README: SVG drawings are refused unless --allow-svg (predict, gradcam, features).
  const drawing = path.join(dir, 'drawing.svg');
  writeFileSync(drawing, '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="3"><rect width="4" height="3"/></svg>');
  const expectations: [string[], RegExp][] = [
    [['predict', checkpoint, drawing], /drawing\.svg is an SVG drawing; .*--allow-svg/],
    [['gradcam', drawing, ...ck], /drawing\.svg is an SVG drawing; .*--allow-svg/],
    [['features', drawing, ...ck, '--layers', 'features.0'], /drawing\.svg is an SVG drawing; .*--allow-svg/],
    [['gradcam', path.join(dir, 'missing.png'), ...ck], /missing\.png: no such file/],
    [['gradcam', text, ...ck], /notes\.png is not a readable image/],
    [['gradcam', cut, ...ck], /cut\.png is damaged or truncated/],
    [['gradcam', huge, ...ck], /huge\.png is 100000x100000 = 10000000000 pixels, above the limit/],
    [['gradcam', picture, ...ck, '--max-pixels', '100'], /above the limit of 100$/m],
    [['gradcam', picture, '--checkpoint', twoChannel], /picture\.png has 1 channel but the checkpoint's model takes 2-channel input/],
    [['gradcam', picture, ...ck, '--layer', 'features.7'], /unknown layer 'features\.7' \(layers: features, features\.0/],
    [['gradcam', picture, ...ck, '--layer', 'classifier.0'], /not a feature map/],
    [['gradcam', picture, ...ck, '--class', '10'], /class 10 is out of range: the model has 10 classes \(0 to 9\)/],
    [['gradcam', picture, ...ck, '--class', 'eleven'], /unknown class 'eleven' \(classes: zero, one/],
    [['gradcam', picture, ...ck, '--method', 'cam'], /one of gradcam, gradcam\+\+ for --method/],
    [['gradcam', picture, ...ck, '--alpha', '2'], /between 0 and 1 for --alpha/],
    [['gradcam', picture, '--checkpoint', path.join(dir, 'nope.bin')], /checkpoint .*nope\.bin: no such file/],
    [['gradcam', picture, '--checkpoint', text], /not/],
    [['features', picture, ...ck, '--layers', 'features.0,conv9'], /unknown layer 'conv9'/],
    [['features', picture, ...ck, '--layers', 'classifier.0'], /not a feature map/],
    [['features', cut, ...ck, '--layers', 'features.0'], /damaged or truncated/],
  ];
  for (const [args, message] of expectations) {
    const r = runCli(args, {}, dir);
    assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}, stderr ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${args.join(' ')}: one line, got ${r.stderr}`);
    assert.match(lines[0], /^cnn: /);
    assert.match(lines[0], message, args.join(' '));
  }
  const noRuns = runCli(['gradcam', picture], {}, dir);
  assert.equal(noRuns.status, 2);
  assert.match(noRuns.stderr, /no --checkpoint given and no runs\/\*\*\/best\.bin found/);
});
