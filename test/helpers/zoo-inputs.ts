// A zoo model with the deterministic weights (gain 1.5) and sine images, for tests that compare
// two paths of one model: the same inputs in every such test, no random state.
import { buildModel } from '../../src/models/registry.js';
import { withoutInit } from '../../src/nn/init.js';
import type { Module } from '../../src/nn/module.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { fillDeterministic } from './deterministic-weights.js';

/** n images of 3×side×side, value i = sin(0.37·(i² mod 10007) + phase). */
export function sineImages(n: number, side = 32, phase = 0): Tensor {
  const size = n * 3 * side * side, data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = Math.sin(0.37 * ((i * i) % 10007) + phase);
  return new Tensor(data, [n, 3, side, side]);
}

/** The zoo's `name` for 10 classes of 3-channel images, weights from the deterministic formula (gain 1.5), in train mode. */
export function deterministicModel(name: string): Module {
  const model = withoutInit(() => buildModel(name, { numClasses: 10, inChannels: 3 }));
  fillDeterministic(model, 1.5);
  return model;
}
