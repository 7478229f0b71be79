// Every registry model against the table gen.py computed with torchvision (and its mirrors of
// lenet5, simplecnn and mobilenet_v1): parameter counts at 1000 and 10 classes, state-dict
// names and shapes, and the logits' shape. Models are built without random initialization
// (withoutInit) and run only on small inputs, so the whole table takes seconds.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadSafetensors } from '../../src/io/safetensors.js';
import { MODELS, buildModel } from '../../src/models/registry.js';
import { withoutInit } from '../../src/nn/init.js';
import type { Module } from '../../src/nn/module.js';
import { Tensor, noGrad } from '../../src/tensor/tensor.js';
import { repoRoot } from '../helpers/fixtures.js';

interface TableRow {
  name: string;
  params1000: number;
  params10: number;
  /** C×H×W of the registry's default input and the logits' shape there (batch 1, 10 classes). */
  defaultInput: [number, number, number];
  outputShape10: number[];
  /** A 32×32 (lenet5: its default 28×28) input and the logits' shape there. */
  smallInput: [number, number, number];
  smallOutputShape10: number[];
  stateDict10: [string, number[]][];
  int64Keys: string[];
}

const tables = JSON.parse(loadSafetensors(`${repoRoot}test/fixtures/models.safetensors`).metadata.tables) as TableRow[];

/** Under 2 GMAC at 224×224 (the VGGs need 8-20 and the deeper ResNets 4-12). */
const LIGHT_AT_DEFAULT_INPUT = new Set(['resnet18', 'mobilenet_v1', 'mobilenet_v2', 'mobilenet_v3_small', 'efficientnet_b0', 'regnet_y_400mf']);

const countParameters = (m: Module): number => m.parameters().reduce((n, p) => n + p.size, 0);
const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

describe('model tables match torchvision', () => {
  it('the registry holds exactly the models of the table, in its order', () => {
    assert.deepEqual([...MODELS.keys()], tables.map((r) => r.name));
  });

  for (const row of tables) {
    it(`${row.name}: parameters, state dict and output shape`, () => {
      const entry = MODELS.get(row.name)!;
      assert.deepEqual(entry.defaultInput, row.defaultInput, 'default input');

      const big = withoutInit(() => buildModel(row.name, { numClasses: 1000 }));
      assert.equal(countParameters(big), row.params1000, 'parameters with 1000 classes');

      const model = withoutInit(() => buildModel(row.name, { numClasses: 10 }));
      assert.equal(countParameters(model), row.params10, 'parameters with 10 classes');
      const layout = [...model.stateDict()].map(([k, v]): [string, number[]] => [k, [...v.shape]]);
      assert.deepEqual(layout, row.stateDict10, 'state-dict keys and shapes');
      assert.deepEqual([...model.int64Keys()], row.int64Keys, 'int64 entries');

      // Forward passes only where they are cheap: every model on its small input, and on the
      // default input where that is the small one or the model is light at 224×224.
      model.eval();
      const y = noGrad(() => model.call(Tensor.zeros([1, ...row.smallInput])));
      assert.deepEqual([...y.shape], row.smallOutputShape10, `logits for 1×${row.smallInput.join('×')}`);
      if (sameShape(row.smallInput, row.defaultInput)) {
        assert.deepEqual([...y.shape], row.outputShape10, 'logits for the default input');
      } else if (LIGHT_AT_DEFAULT_INPUT.has(row.name)) {
        const yDefault = noGrad(() => model.call(Tensor.zeros([1, ...row.defaultInput])));
        assert.deepEqual([...yDefault.shape], row.outputShape10, `logits for 1×${row.defaultInput.join('×')}`);
      }
    });
  }
});
