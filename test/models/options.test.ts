// The builder options behind --dropout and --drop-path: torchvision's defaults, the per-block
// stochastic-depth schedule, and probabilities outside [0, 1] refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel } from '../../src/models/registry.js';
import { withoutInit } from '../../src/nn/init.js';
import { Dropout, StochasticDepth } from '../../src/nn/dropout.js';
import type { Module } from '../../src/nn/module.js';
import type { ModelOptions } from '../../src/models/options.js';

const build = (name: string, o: ModelOptions = {}) => withoutInit(() => buildModel(name, { numClasses: 10, ...o }));
const dropPaths = (m: Module) => [...m.modules()].filter((x): x is StochasticDepth => x instanceof StochasticDepth).map((x) => x.p);
const dropouts = (m: Module) => [...m.modules()].filter((x): x is Dropout => x instanceof Dropout).map((x) => x.p);

describe('model builder options', () => {
  it("efficientnet_b0: dropout 0.2 and drop path 0.2·i/16 by default (torchvision's)", () => {
    const m = build('efficientnet_b0');
    assert.deepEqual(dropouts(m), [0.2]);
    const p = dropPaths(m);
    assert.equal(p.length, 16);
    p.forEach((v, i) => assert.ok(Math.abs(v - 0.2 * i / 16) < 1e-12, `block ${i}: ${v}`));
  });

  it('efficientnet_b0 takes dropout and dropPath', () => {
    const m = build('efficientnet_b0', { dropout: 0.5, dropPath: 0.4 });
    assert.deepEqual(dropouts(m), [0.5]);
    assert.ok(Math.abs(dropPaths(m)[15] - 0.4 * 15 / 16) < 1e-12);
  });

  it('convnext_tiny: drop path 0.1·i/17 by default, the last block at dropPath', () => {
    const p = dropPaths(build('convnext_tiny'));
    assert.equal(p.length, 18);
    assert.equal(p[0], 0);
    assert.ok(Math.abs(p[17] - 0.1) < 1e-12);
    assert.ok(Math.abs(dropPaths(build('convnext_tiny', { dropPath: 0.3 }))[17] - 0.3) < 1e-12);
  });

  it('mobilenet_v3_small takes dropout', () => {
    assert.deepEqual(dropouts(build('mobilenet_v3_small')), [0.2]);
    assert.deepEqual(dropouts(build('mobilenet_v3_small', { dropout: 0 })), [0]);
  });

  it('probabilities outside [0, 1] are refused', () => {
    assert.throws(() => build('efficientnet_b0', { dropPath: 1.5 }), /dropPath must be a probability/);
    assert.throws(() => build('convnext_tiny', { dropPath: -0.1 }), /dropPath must be a probability/);
    assert.throws(() => build('mobilenet_v3_small', { dropout: 2 }), /dropout must be a probability/);
  });
});

describe('models without a place for an option refuse it', () => {
  it('names the models that take it', () => {
    assert.throws(() => build('resnet18', { dropPath: 0.1 }), /--drop-path applies to efficientnet_b0, convnext_tiny, not resnet18/);
    assert.throws(() => build('lenet5', { dropout: 0.1 }), /--dropout applies to mobilenet_v3_small, efficientnet_b0, densenet121, not lenet5/);
  });
});
