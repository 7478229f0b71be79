// --ema: ModelEma against timm's ModelEmaV2 (fixture), and through `cnn train` both weight sets in
// the checkpoints, best.bin chosen and filled by --ema-eval.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Sequential } from '../../src/nn/container.js';
import { Conv2d } from '../../src/nn/conv.js';
import { BatchNorm2d } from '../../src/nn/norm.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { ModelEma } from '../../src/train/model-ema.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { loadFixture } from '../helpers/fixtures.js';
import { assertClose, FORWARD } from '../helpers/assert.js';
import { runCli } from '../helpers/cli.js';
import { scratchDir } from '../helpers/tmp.js';

const fixture = loadFixture<{ decay: number; steps: number }>('recipe.safetensors').find((c) => c.name === 'ema')!;

function stateAt(prefix: string): Map<string, Tensor> {
  return new Map(Object.entries(fixture.t).filter(([k]) => k.startsWith(`${prefix}:`)).map(([k, t]) => [k.slice(prefix.length + 1), t]));
}

test("ModelEma follows timm's ModelEmaV2 over parameters and buffers for every step", () => {
  const build = () => new Sequential(new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3 }), new BatchNorm2d({ numFeatures: 3 }));
  const model = build();
  model.loadStateDict(stateAt('step0'));
  const ema = new ModelEma(build(), fixture.params.decay, model);
  for (let s = 1; s <= fixture.params.steps; s++) {
    model.loadStateDict(stateAt(`step${s}`));
    ema.update(model);
    const want = stateAt(`ema${s}`);
    assert.deepEqual([...ema.module.stateDict().keys()].sort(), [...want.keys()].sort());
    for (const [k, t] of ema.module.stateDict()) assertClose(t, want.get(k)!, FORWARD, `step ${s} ${k}`);
  }
});

test('--ema saves the EMA beside the model; --ema-eval ema fills best.bin with the EMA weights and keeps the raw ones', () => {
  const out = join(scratchDir('cnn-ema-'), 'run');
  const r = runCli(['train', '--epochs', '1', '--out', out, '--json', '--ema', '0.9', '--ema-eval', 'ema']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /epoch 1 EMA: val loss [\d.]+, val acc [\d.]+%/);
  const last = loadCheckpoint(join(out, 'last.bin'));
  const best = loadCheckpoint(join(out, 'best.bin'));
  assert.equal(last.weightSet?.prefix, 'ema.');
  assert.equal(best.weightSet?.prefix, 'raw.');
  for (const [k, t] of last.modelState) {
    assert.deepEqual(best.weightSet!.state.get(k)!.data, t.data, `raw ${k}`);
    assert.deepEqual(best.modelState.get(k)!.data, last.weightSet!.state.get(k)!.data, `ema ${k}`);
  }
  // The EMA (decay 0.9) lags the model: not the same weights.
  assert.notDeepEqual(last.modelState.get('features.0.weight')!.data, last.weightSet!.state.get('features.0.weight')!.data);
  const evaluated = runCli(['eval', join(out, 'best.bin'), '--json']);
  assert.equal(evaluated.status, 0, evaluated.stderr);
});
