// The PyTorch idioms for changing a model after it is built, written as the tutorial writes them:
// property assignment registers modules and parameters everywhere (PyTorch's __setattr__).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import * as ops from '../../src/tensor/ops.js';
import { nn, models, optim } from '../../src/index.js';

test('model.fc = new nn.Linear(512, 3): forward, parameters, modules, state dict and hooks see the new head', () => {
  const model = models.resnet18();
  const oldFc = model.fc;
  // the tutorial: freeze everything, then replace the head
  for (const p of model.parameters()) p.requiresGrad = false;
  model.fc = new nn.Linear({ inFeatures: 512, outFeatures: 3 });
  assert.notEqual(model.fc, oldFc);
  assert.equal(model.getSubmodule('fc'), model.fc);
  assert.equal(new Map(model.namedModules()).get('fc'), model.fc);
  const sd = model.stateDict();
  assert.deepEqual([...sd.get('fc.weight')!.shape], [3, 512]);
  assert.equal(sd.get('fc.weight'), model.fc.weight);
  assert.deepEqual([...sd.keys()].slice(-2), ['fc.weight', 'fc.bias'], 'the head keeps its place in the order');
  const trainable = model.parameters().filter((p) => p.requiresGrad);
  assert.deepEqual(trainable, [model.fc.weight, model.fc.bias!]);
  assert.ok(!model.parameters().includes(oldFc.weight));

  const outputs: number[][] = [];
  model.fc.registerForwardHook((_, __, out) => { outputs.push([...out.shape]); });
  model.eval();
  const y = model.call(Tensor.randn([2, 3, 32, 32]));
  assert.deepEqual([...y.shape], [2, 3]);
  assert.deepEqual(outputs, [[2, 3]]);

  // an optimizer over the trainable parameters moves only the new head
  model.train();
  const opt = new optim.SGD(model.parameters().filter((p) => p.requiresGrad), { lr: 0.1 });
  const conv1 = model.conv1.weight.toArray();
  const head = model.fc.weight.toArray();
  ops.mean(model.call(Tensor.randn([2, 3, 32, 32]))).backward();
  opt.step();
  assert.deepEqual(model.conv1.weight.toArray(), conv1);
  assert.notDeepEqual(model.fc.weight.toArray(), head);
});

test('container index assignment: model.classifier[1] = new nn.Linear(1280, 3), model.features[0] = …', () => {
  const model = models.buildModel('mobilenet_v2', { numClasses: 10 }) as models.MobileNetV2;
  model.classifier[1] = new nn.Linear({ inFeatures: 1280, outFeatures: 3 });
  assert.deepEqual([...model.stateDict().get('classifier.1.weight')!.shape], [3, 1280]);
  assert.equal(model.getSubmodule('classifier.1'), model.classifier[1]);
  assert.equal(model.classifier.at(1), model.classifier[1]);
  model.eval();
  assert.deepEqual([...model.call(Tensor.randn([1, 3, 32, 32])).shape], [1, 3]);

  const lenet = models.buildModel('lenet5') as models.LeNet5;
  const conv = new nn.Conv2d({ inChannels: 1, outChannels: 6, kernelSize: 5, bias: false });
  lenet.features[0] = conv;
  assert.equal(lenet.stateDict().has('features.0.bias'), false);
  assert.ok(lenet.parameters().includes(conv.weight));
  assert.equal(lenet.features.length, 6);
});

test('model.fc = new nn.Identity() turns the model into a feature extractor', () => {
  const model = models.resnet18({ stem: 'cifar' });
  model.fc = new nn.Identity() as unknown as nn.Linear;
  model.eval();
  assert.deepEqual([...model.call(Tensor.randn([1, 3, 8, 8])).shape], [1, 512]);
  assert.ok(![...model.stateDict().keys()].some((k) => k.startsWith('fc.')));
});

test('assigning an nn.Parameter registers it; a plain tensor where a parameter is refused as PyTorch does', () => {
  const fc = new nn.Linear({ inFeatures: 4, outFeatures: 2 });
  const w = new nn.Parameter(Tensor.zeros([2, 4]));
  fc.weight = w;
  assert.equal(fc.stateDict().get('weight'), w);
  assert.ok(fc.parameters().includes(w));
  assert.deepEqual([...fc.call(Tensor.ones([1, 4])).data], [...fc.bias!.data], 'zero weights leave the bias');
  assert.throws(() => { fc.weight = Tensor.ones([2, 4]); }, /cannot assign 'Tensor' as parameter 'weight' \(nn.Parameter or null expected\)/);
  fc.bias = null;
  assert.deepEqual([...fc.stateDict().keys()], ['weight']);
  const frozen = new nn.Parameter(Tensor.ones([2]), false);
  (fc as unknown as { scale: Tensor }).scale = frozen;
  assert.deepEqual([...fc.stateDict().keys()], ['weight', 'scale']);
  assert.equal(frozen.requiresGrad, false);
  assert.throws(() => { (fc as unknown as { scale: unknown }).scale = 3; }, /cannot assign 'number' as parameter 'scale'/);
});

test('class fields and registerModule both register, and a property follows registerModule', () => {
  class Head extends nn.Module {
    fc = new nn.Linear({ inFeatures: 4, outFeatures: 2 });
    act = new nn.ReLU();
    forward(x: Tensor): Tensor {
      return this.act.call(this.fc.call(x));
    }
  }
  const h = new Head();
  assert.deepEqual([...h.namedModules()].map(([k]) => k), ['', 'fc', 'act']);
  const replacement = new nn.Linear({ inFeatures: 4, outFeatures: 5 });
  h.registerModule('fc', replacement);
  assert.equal(h.fc, replacement, 'registerModule updates the property the forward pass reads');
  assert.deepEqual([...h.call(Tensor.ones([1, 4])).shape], [1, 5]);
  delete (h as unknown as { act?: nn.Module }).act;
  assert.deepEqual([...h.namedModules()].map(([k]) => k), ['', 'fc']);
});

test('a camelCase property for a snake_case registration is an alias: assigning it replaces what that name registers', () => {
  class Trunk extends nn.Module {
    trunkOutput: nn.Module;
    constructor() {
      super();
      this.trunkOutput = this.registerModule('trunk_output', new nn.Linear({ inFeatures: 2, outFeatures: 2 }));
    }
    forward(x: Tensor): Tensor {
      return this.trunkOutput.call(x);
    }
  }
  const t = new Trunk();
  assert.deepEqual([...t.namedModules()].map(([k]) => k), ['', 'trunk_output']);
  const replacement = new nn.Linear({ inFeatures: 2, outFeatures: 4 });
  t.trunkOutput = replacement;
  assert.deepEqual([...t.namedModules()].map(([k]) => k), ['', 'trunk_output']);
  assert.equal(t.getSubmodule('trunk_output'), replacement);
  assert.deepEqual([...t.call(Tensor.ones([1, 2])).shape], [1, 4]);
  // a buffer read through a camelCase property: assigning the property replaces the buffer
  const bn = new nn.BatchNorm2d({ numFeatures: 2 });
  const mean = Tensor.full([2], 0.5);
  (bn as unknown as { runningMean: Tensor }).runningMean = mean;
  assert.equal(bn.stateDict().get('running_mean'), mean);
});
