// useFlatStorage(): parameters, gradients and optimizer state as views of one buffer each, one
// native update per run of parameters that step alike, and the same numbers as before: losses,
// weights and checkpoints bit for bit, with param groups, frozen and unfrozen parameters,
// accumulation, clipping and state loaded from a checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { Generator, manualSeed } from '../../src/tensor/random.js';
import { crossEntropy } from '../../src/tensor/loss.js';
import { native } from '../../src/tensor/native.js';
import { StepBuffers } from '../../src/tensor/storage.js';
import { buildModel } from '../../src/models/registry.js';
import { SGD, Adam, AdamW, type Optimizer, type ParamGroupInput } from '../../src/optim/index.js';
import { clipGradNorm } from '../../src/optim/clip-grad.js';
import type { Module } from '../../src/nn/module.js';

type Build = (groups: ParamGroupInput[]) => Optimizer;
const OPTIMIZERS: Record<string, Build> = {
  sgd: (g) => new SGD(g, { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 }),
  adam: (g) => new Adam(g, { lr: 1e-3, amsgrad: true }),
  adamw: (g) => new AdamW(g, { lr: 1e-3 }),
};

interface Setup {
  /** The model's parameters split into groups (options per group). */
  groups?: (m: Module) => ParamGroupInput[];
  /** Before step s (0-based): e.g. freeze or unfreeze parameters. */
  before?: (m: Module, s: number) => void;
  accumulate?: number;
  clip?: number;
}

/** Native optimizer updates made while fn runs. */
function updatesDuring(fn: () => void): number {
  const sgd = native.sgdStep, adam = native.adamStep;
  let calls = 0;
  native.sgdStep = (...a) => { calls++; return sgd(...a); };
  native.adamStep = (...a) => { calls++; return adam(...a); };
  try {
    fn();
  } finally {
    native.sgdStep = sgd;
    native.adamStep = adam;
  }
  return calls;
}

function train(optimizer: string, flat: boolean, steps: number, o: Setup = {}, resumeFrom?: Optimizer) {
  manualSeed(3);
  const model = buildModel('simplecnn', { numClasses: 10, inChannels: 3 });
  model.train();
  const g = new Generator(1);
  const x = Tensor.randn([4, 3, 32, 32], { generator: g });
  const y = Int32Array.from({ length: 4 }, () => g.randint(10));
  const opt = OPTIMIZERS[optimizer](o.groups ? o.groups(model) : [{ params: model.parameters() }]);
  if (resumeFrom) opt.loadStateDict(resumeFrom.stateDict());
  if (flat) opt.useFlatStorage();
  const buffers = new StepBuffers();
  const losses: number[] = [], updates: number[] = [];
  for (let s = 0; s < steps; s++) {
    o.before?.(model, s);
    buffers.begin();
    try {
      opt.zeroGrad();
      for (let k = 0; k < (o.accumulate ?? 1); k++) {
        const loss = crossEntropy(model.call(x), y);
        losses.push(loss.item());
        loss.backward();
      }
      if (o.clip) clipGradNorm(model.parameters(), o.clip);
      updates.push(updatesDuring(() => opt.step()));
    } finally {
      buffers.end();
    }
  }
  return { model, opt, losses, updates, weights: model.parameters().map((p) => p.data) };
}

function assertSame(a: ReturnType<typeof train>, b: ReturnType<typeof train>): void {
  assert.deepEqual(a.losses, b.losses);
  a.weights.forEach((w, i) => assert.deepEqual(w, b.weights[i], `parameter ${i}`));
  const sa = a.opt.stateDict(), sb = b.opt.stateDict();
  assert.deepEqual(sa.json, sb.json);
  assert.deepEqual([...sa.tensors.keys()], [...sb.tensors.keys()]);
  for (const [k, t] of sa.tensors) assert.deepEqual(t.data, sb.tensors.get(k)!.data, k);
}

const headAndBody = (m: Module): ParamGroupInput[] => {
  const head = new Set(m.parameters().slice(-2));
  return [{ params: m.parameters().filter((p) => !head.has(p)), lr: 0.01, weightDecay: 0 }, { params: [...head] }];
};

for (const name of Object.keys(OPTIMIZERS)) {
  test(`${name}: one update per step over the flat buffers, the same losses, weights and state`, () => {
    const flat = train(name, true, 3), plain = train(name, false, 3);
    assertSame(flat, plain);
    assert.deepEqual(flat.updates, [1, 1, 1]);
    assert.equal(plain.updates[0], plain.model.parameters().length);
    // Every parameter's values and gradient are views of the two flat buffers.
    const storage = flat.opt.flatStorage!;
    for (const p of flat.model.parameters()) {
      assert.equal(p.data.buffer, storage.data.buffer);
      assert.equal(p.grad!.data.buffer, storage.grad.buffer);
    }
  });

  test(`${name}: two param groups (one without weight decay) are two updates, as without flat storage`, () => {
    const flat = train(name, true, 3, { groups: headAndBody }), plain = train(name, false, 3, { groups: headAndBody });
    assertSame(flat, plain);
    assert.deepEqual(flat.updates, [2, 2, 2]);
  });
}

test('frozen parameters are left out and an unfrozen one steps from its own count: runs split where the state differs', () => {
  const setup: Setup = {
    before: (m, s) => {
      const [first, second] = m.parameters();
      if (s === 0) second.requiresGrad = false;
      if (s === 2) second.requiresGrad = true;
      void first;
    },
  };
  const flat = train('adam', true, 4, setup), plain = train('adam', false, 4, setup);
  assertSame(flat, plain);
  // Step 0/1: the parameters before and after the frozen one; step 2/3: the unfrozen one at count 1 splits them again.
  assert.deepEqual(flat.updates, [2, 2, 3, 3]);
});

test('accumulated gradients and clipping on flat gradients give the same numbers', () => {
  const setup: Setup = { accumulate: 2, clip: 0.5 };
  assertSame(train('sgd', true, 3, setup), train('sgd', false, 3, setup));
});

test('state loaded from a checkpoint moves into the flat buffers and continues exactly', () => {
  const first = train('adamw', false, 2);
  assertSame(train('adamw', true, 2, {}, first.opt), train('adamw', false, 2, {}, first.opt));
});
