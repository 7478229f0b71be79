// Every model of the zoo, exported to ONNX at a small input and run by onnxruntime, gives the
// logits of our forward within 1e-4 (of max(1, |largest logit|)): with a dynamic batch fed two
// images, and again with BatchNorm folded into the convolutions. A model added to the registry
// is covered here as soon as it exists: it needs its ONNX rows and hooks to pass.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MODELS, buildModel } from '../../src/models/registry.js';
import { BatchNorm2d } from '../../src/nn/norm.js';
import { withoutInit } from '../../src/nn/init.js';
import { exportOnnx } from '../../src/nn/onnx-export.js';
import { Tensor, noGrad } from '../../src/tensor/tensor.js';
import { fillDeterministic } from '../helpers/deterministic-weights.js';
import { assertClose } from '../helpers/assert.js';
import { runOnnx } from '../helpers/onnxruntime.js';

const WITHIN = { atol: 1e-4, rtol: 0 };

/** Weight gains that keep each model's logits O(0.1..10) (deeper residual stacks need less). */
const GAIN: Record<string, number> = { lenet5: 1.5, resnet50: 1.5, resnet101: 1.2, resnet152: 1.1 };

/** The smallest input each model takes (five stride-2 stages need 32×32). */
function smallInput(name: string): [number, number, number] {
  return name === 'lenet5' ? [1, 28, 28] : [3, 32, 32];
}

/** Two different images: the probe's pattern and its mirror image, sign-flipped. */
function twoImages(shape: readonly number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    data[i] = Math.sin(0.37 * ((i * i) % 10007));
    data[n + i] = -data[n - 1 - i];
  }
  return new Tensor(data, [2, ...shape]);
}

function zooModel(name: string, stem?: 'cifar') {
  const inputShape = smallInput(name);
  const model = withoutInit(() => buildModel(name, { numClasses: 10, inChannels: inputShape[0], ...(stem ? { stem } : {}) }));
  fillDeterministic(model, GAIN[name] ?? 2);
  return { model: model.eval(), inputShape, label: `${name}${stem ? ` (${stem} stem)` : ''}` };
}

async function checkExport({ model, inputShape, label }: ReturnType<typeof zooModel>, foldBn: boolean): Promise<void> {
  const { bytes, graph } = exportOnnx(model, { inputShape, foldBn });
  if (foldBn) {
    // Every BatchNorm right after a convolution is folded (DenseNet's pre-activation ones stay).
    const convOutputs = new Set(graph.nodes.filter((n) => n.opType === 'Conv').flatMap((n) => n.outputs));
    assert.ok(!graph.nodes.some((n) => n.opType === 'BatchNormalization' && convOutputs.has(n.inputs[0])), `${label}: BatchNorm after a convolution left unfolded`);
  }
  const x = twoImages(inputShape);
  const want = noGrad(() => model.call(x));
  const scale = Math.max(...want.data.map(Math.abs));
  assert.ok(scale > 1e-2 && scale < 1e3, `${label}: logits of a usable size (largest ${scale})`);
  assertClose(await runOnnx(bytes, x), want, WITHIN, `${label}${foldBn ? ' with --fold-bn' : ''}`);
}

describe('every zoo model exported to ONNX runs in onnxruntime with our logits', () => {
  for (const name of MODELS.keys()) {
    it(name, async () => {
      const zoo = zooModel(name);
      await checkExport(zoo, false);
      if ([...zoo.model.modules()].some((m) => m instanceof BatchNorm2d)) await checkExport(zoo, true);
    });
  }
  it('resnet18 with the CIFAR stem', async () => {
    const zoo = zooModel('resnet18', 'cifar');
    await checkExport(zoo, false);
    await checkExport(zoo, true);
  });
});
