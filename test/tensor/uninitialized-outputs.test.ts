// Large kernel outputs come uninitialized (src/tensor/storage.ts). With poisoning on, each is NaN
// until the kernel writes it, so a whole-model step that matches the unpoisoned one bit for bit
// proves every kernel on the way writes all of its output.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel } from '../../src/models/registry.js';
import { setPoisonEmpty } from '../../src/tensor/storage.js';
import { manualSeed } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { crossEntropy } from '../../src/tensor/loss.js';

after(() => setPoisonEmpty(false));

/** Logits and every parameter gradient of one seeded training step. */
function step(model: string, input: [number, number, number], poison: boolean): Float32Array[] {
  setPoisonEmpty(poison);
  manualSeed(7);
  const net = buildModel(model, { numClasses: 10, inChannels: input[0], ...(model.startsWith('resnet') ? { stem: 'cifar' as const } : {}) });
  net.train();
  const x = Tensor.randn([8, ...input]);
  x.requiresGrad = true;
  const logits = net.call(x);
  crossEntropy(logits, Int32Array.from({ length: 8 }, (_, i) => i % 10)).backward();
  return [logits.data, x.grad!.data, ...net.parameters().map((p) => p.grad!.data)];
}

describe('kernel outputs are written in full', () => {
  const cases: [string, [number, number, number]][] = [
    ['lenet5', [1, 28, 28]], ['simplecnn', [3, 32, 32]], ['resnet18', [3, 32, 32]],
    ['mobilenet_v2', [3, 32, 32]],
  ];
  for (const [model, input] of cases) {
    it(`${model}: a training step is the same with uninitialized outputs poisoned`, () => {
      const clean = step(model, input, false), poisoned = step(model, input, true);
      assert.equal(poisoned.length, clean.length);
      clean.forEach((want, i) => {
        const got = poisoned[i];
        assert.ok(got.every((v, j) => Object.is(v, want[j])), `${model}: output ${i} differs (first NaN at ${got.findIndex(Number.isNaN)})`);
      });
    });
  }
});
