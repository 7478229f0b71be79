import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadFixture } from '../helpers/fixtures.js';
import { assertClose } from '../helpers/assert.js';
import { buildModel } from '../../src/models/registry.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Conv2d } from '../../src/nn/conv.js';
import { ReLU, Flatten, Linear, AdaptiveMaxPool2d } from '../../src/nn/index.js';
import { crossEntropy } from '../../src/tensor/loss.js';
import { Sequential } from '../../src/nn/container.js';
import { gradCam, featureMaps, defaultCamLayer, VizError, type CamMethod } from '../../src/viz/gradcam.js';
import { resizeBilinear } from '../../src/viz/resample.js';
import { Generator, manualSeed } from '../../src/tensor/random.js';
import type { Module } from '../../src/nn/module.js';

interface CamParams { layer: string; method: CamMethod; classIndex: number; requestedClass: number | null; probability: number }

const cases = loadFixture<CamParams>('gradcam.safetensors');
const CAM_TOL = { atol: 1e-4, rtol: 0 };

function lenetFromFixture(): Module {
  const weights = cases.find((c) => c.name === 'weights')!;
  const model = buildModel('lenet5');
  model.loadStateDict(new Map(Object.entries(weights.t)));
  return model.eval();
}

for (const c of cases.filter((c) => c.t.upsampled)) {
  test(`gradCam matches PyTorch hooks: ${c.name} (${c.params.method})`, () => {
    const model = lenetFromFixture();
    const r = gradCam(model, c.t.x, { layer: c.params.layer, method: c.params.method, classIndex: c.params.requestedClass ?? undefined });
    assert.equal(r.classIndex, c.params.classIndex);
    assert.equal(r.layer, 'features.3');
    assert.equal(r.allZero, false);
    assert.ok(Math.abs(r.probability - c.params.probability) < 1e-5, `probability ${r.probability} vs ${c.params.probability}`);
    assertClose(r.cam, c.t.cam, CAM_TOL, 'cam');
    assertClose(r.upsampled, c.t.upsampled, CAM_TOL, 'upsampled');
    for (const p of model.parameters()) assert.equal(p.grad, null, 'parameter gradients are left as they were');
  });
}

test('the default layer is the last Conv2d with an output of at least 2x2', () => {
  const model = lenetFromFixture();
  const x = cases.find((c) => c.name === 'pred')!.t.x;
  assert.equal(defaultCamLayer(model, x), 'features.3');
  const r = gradCam(model, x);
  assert.equal(r.layer, 'features.3');
  // A conv whose output is 1x1 is skipped.
  const net = new Sequential(
    new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 3 }), new ReLU(),
    new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 4 }), new Flatten(),
  );
  assert.equal(defaultCamLayer(net, Tensor.randn([1, 1, 6, 6])), '0');
  const single = new Sequential(new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 3 }), new Flatten());
  assert.throws(() => defaultCamLayer(single, Tensor.randn([1, 1, 3, 3])), /no Conv2d layer with an output of at least 2x2/);
});

test('a class whose logit ignores the features gives an all-zero map, never NaN', () => {
  const model = lenetFromFixture();
  const w = model.getSubmodule('classifier.4')!.getLocal('weight')!;
  w.data.fill(0, 5 * 84, 6 * 84);
  const x = cases.find((c) => c.name === 'pred')!.t.x;
  for (const method of ['gradcam', 'gradcam++'] as const) {
    const r = gradCam(model, x, { classIndex: 5, method });
    assert.equal(r.allZero, true);
    assert.ok(r.cam.data.every((v) => v === 0));
    assert.ok(r.upsampled.data.every((v) => v === 0));
  }
});

test('bad requests are VizErrors with a message', () => {
  const model = lenetFromFixture();
  const x = cases.find((c) => c.name === 'pred')!.t.x;
  assert.throws(() => gradCam(model, x, { layer: 'features.9' }), /unknown layer 'features.9'.*features.0/);
  assert.throws(() => gradCam(model, x, { layer: 'classifier.0' }), /not a feature map/);
  assert.throws(() => gradCam(model, x, { classIndex: 10 }), /class index 10 is out of range: the model has 10 classes/);
  assert.throws(() => gradCam(model, x, { classIndex: -1 }), VizError);
  assert.throws(() => gradCam(model, Tensor.zeros([2, 1, 28, 28])), /1xCxHxW/);
  assert.throws(() => featureMaps(model, x, ['features.0', 'nope']), /unknown layer 'nope'/);
});

test('featureMaps returns each named activation', () => {
  const model = lenetFromFixture();
  const x = cases.find((c) => c.name === 'pred')!.t.x;
  const maps = featureMaps(model, x, ['features.3', 'features.0']);
  assert.deepEqual([...maps.keys()], ['features.3', 'features.0']);
  assert.deepEqual([...maps.get('features.0')!.shape], [1, 6, 24, 24]);
  assert.deepEqual([...maps.get('features.3')!.shape], [1, 16, 8, 8]);
  assert.equal(maps.get('features.3')!.requiresGrad, false);
});

test('resizeBilinear: identity at the same size, align_corners=False at the corners', () => {
  const plane = [0, 1, 2, 3];
  assert.deepEqual([...resizeBilinear(plane, 2, 2, 2, 2)], plane);
  const up = resizeBilinear(plane, 2, 2, 4, 4);
  // F.interpolate([[0,1],[2,3]], size=4, bilinear) first row: 0, 0.25, 0.75, 1
  assertClose(up.subarray(0, 4), Float32Array.of(0, 0.25, 0.75, 1), { atol: 1e-7, rtol: 0 }, 'row 0');
  assertClose(up.subarray(12, 16), Float32Array.of(2, 2.25, 2.75, 3), { atol: 1e-7, rtol: 0 }, 'row 3');
});

// A tiny conv net trained here, where the top-left quadrant decides the class: its map must put
// more mass in that quadrant than in any other, and not on a distractor both classes share.
test('Grad-CAM lights the region that decides the class on a model trained for it', () => {
  const g = new Generator(7);
  const size = 16;
  // Both classes: noise and a bright 1x6 bar in the bottom half. Class 1 adds a bright 3x3
  // square in the top-left quadrant.
  const makeImage = (label: number): Float32Array => {
    const img = new Float32Array(size * size);
    for (let i = 0; i < img.length; i++) img[i] = 0.2 * g.random();
    const by = 8 + Math.floor(g.random() * 8), bx = Math.floor(g.random() * 11);
    for (let x = bx; x < bx + 6; x++) img[by * size + x] = 1;
    if (label === 0) return img;
    const oy = Math.floor(g.random() * 5), ox = Math.floor(g.random() * 5);
    for (let y = oy; y < oy + 3; y++) for (let x = ox; x < ox + 3; x++) img[y * size + x] = 1;
    return img;
  };
  manualSeed(3);
  const model = new Sequential(
    new Conv2d({ inChannels: 1, outChannels: 4, kernelSize: 3, padding: 1 }), new ReLU(),
    new Conv2d({ inChannels: 4, outChannels: 8, kernelSize: 3, padding: 1, stride: 2 }), new ReLU(),
    new AdaptiveMaxPool2d(1), new Flatten(), new Linear({ inFeatures: 8, outFeatures: 2 }),
  );
  const batch = 16, lr = 0.1;
  let lastLoss = Infinity;
  for (let step = 0; step < 400; step++) {
    const labels = Array.from({ length: batch }, (_, i) => (i + step) % 2);
    const data = new Float32Array(batch * size * size);
    labels.forEach((l, i) => data.set(makeImage(l), i * size * size));
    const loss = crossEntropy(model.call(new Tensor(data, [batch, 1, size, size])), labels);
    model.zeroGrad();
    loss.backward();
    for (const p of model.parameters()) {
      const grad = p.grad!.data;
      for (let i = 0; i < p.data.length; i++) p.data[i] -= lr * grad[i];
    }
    lastLoss = loss.item();
  }
  assert.ok(lastLoss < 0.1, `the model learned the task (loss ${lastLoss})`);
  model.eval();
  for (let n = 0; n < 5; n++) {
    const r = gradCam(model, new Tensor(makeImage(1), [1, 1, size, size]), { classIndex: 1 });
    assert.equal(r.layer, '2');
    assert.ok(r.probability > 0.9);
    const mass = [0, 0, 0, 0];
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) mass[(y < 8 ? 0 : 2) + (x < 8 ? 0 : 1)] += r.upsampled.data[y * size + x];
    assert.ok(mass[0] > Math.max(mass[1], mass[2], mass[3]), `top-left quadrant mass ${mass.map((m) => m.toFixed(2)).join(', ')}`);
  }
});
