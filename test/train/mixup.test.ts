// --mixup / --cutmix against timm's Mixup ('batch' mode): mixed images, corrected λ, soft targets
// and SoftTargetCrossEntropy for given λ and box centres (fixture), Beta draws, and a CLI run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Tensor } from '../../src/tensor/tensor.js';
import { Generator } from '../../src/tensor/random.js';
import { cutmixBox, mixBatch, mixupTarget, softTargetCrossEntropy, sampleBeta, Mixup } from '../../src/train/mixup.js';
import { loadFixture } from '../helpers/fixtures.js';
import { assertClose, FORWARD } from '../helpers/assert.js';
import { runCli } from '../helpers/cli.js';
import { scratchDir } from '../helpers/tmp.js';

interface MixCase { kind: 'mixup' | 'cutmix'; lam: number; cy: number; cx: number; smoothing: number; numClasses: number; correctedLam: number }
const cases = loadFixture<MixCase>('recipe.safetensors').filter((c) => c.name.startsWith('mixup') || c.name.startsWith('cutmix'));
const ints = (t: Tensor) => Array.from(t.data, Math.round);

test('the fixture holds mixup and cutmix cases, one with a clipped box and one with an odd batch', () => {
  assert.deepEqual(cases.map((c) => c.name), ['mixup', 'mixup_odd_batch', 'cutmix', 'cutmix_clipped']);
});

for (const { name, params: p, t } of cases) {
  test(`${name}: images, λ, soft targets, loss and gradient as timm`, () => {
    let lam = p.lam;
    let box = null;
    if (p.kind === 'cutmix') {
      ({ box, lam } = cutmixBox(t.x.shape[2], t.x.shape[3], p.lam, p.cy, p.cx));
      assert.ok(Math.abs(lam - p.correctedLam) < 1e-12, `λ ${lam} vs ${p.correctedLam}`);
    }
    assertClose(mixBatch(t.x, lam, box), t.mixed, FORWARD, 'mixed');
    const target = mixupTarget(ints(t.target), p.numClasses, lam, p.smoothing);
    assertClose(target, t.softTarget, FORWARD, 'soft target');
    const logits = t.logits.clone().requiresGrad_();
    const loss = softTargetCrossEntropy(logits, target);
    assertClose(loss.reshape([1]), t.loss, FORWARD, 'loss');
    loss.backward();
    assertClose(logits.grad!, t.grad, FORWARD, 'grad');
  });
}

test('Beta(α, α) draws have the mean 1/2 and variance 1/(4(2α+1)) for α below and above 1', () => {
  for (const alpha of [0.2, 2]) {
    const gen = new Generator(11);
    const xs = Array.from({ length: 20000 }, () => sampleBeta(gen, alpha));
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    const variance = xs.reduce((s, v) => s + (v - mean) ** 2, 0) / xs.length;
    assert.ok(xs.every((v) => v >= 0 && v <= 1));
    assert.ok(Math.abs(mean - 0.5) < 0.01, `α ${alpha}: mean ${mean}`);
    assert.ok(Math.abs(variance - 1 / (4 * (2 * alpha + 1))) < 0.01, `α ${alpha}: variance ${variance}`);
  }
});

test('mix-prob 0 leaves the batch alone; switch-prob chooses cutmix or mixup when both are on', () => {
  const base = { mixupAlpha: 1, cutmixAlpha: 1, labelSmoothing: 0, numClasses: 3 };
  const gen = new Generator(2);
  assert.deepEqual(new Mixup({ ...base, mixProb: 0, switchProb: 0.5 }).params(gen), { lam: 1, cutmix: false });
  for (let i = 0; i < 20; i++) {
    assert.equal(new Mixup({ ...base, mixProb: 1, switchProb: 1 }).params(gen).cutmix, true);
    assert.equal(new Mixup({ ...base, mixProb: 1, switchProb: 0 }).params(gen).cutmix, false);
  }
});

test('cnn train --mixup --cutmix runs, and --class-weights with them is refused', () => {
  const out = join(scratchDir('cnn-mixup-'), 'run');
  const r = runCli(['train', '--epochs', '1', '--out', out, '--quiet', '--mixup', '0.2', '--cutmix', '1', '--label-smoothing', '0.1']);
  assert.equal(r.status, 0, r.stderr);
  const refused = runCli(['train', '--epochs', '1', '--mixup', '0.2', '--class-weights', 'auto', '--out', join(out, 'x')]);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /--class-weights cannot be combined with --mixup/);
});
