// LeNet-5 for 1×28×28 inputs: two 5×5 convolutions with max-pooling, then 256→120→84→classes.
import { Sequential, Conv2d, ReLU, MaxPool2d, flatten, Flatten, Linear } from '../nn/index.js';
import { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { runSmallNetwork } from '../nn/small-network.js';
import type { ModelOptions } from './options.js';
import type { OnnxExporter, OnnxValue } from '../nn/onnx-export.js';

// The flatten between features and classifier, as a layer for runSmallNetwork.
const flattenAll = new Flatten();

export class LeNet5 extends Module {
  features: Sequential;
  classifier: Sequential;

  constructor({ numClasses = 10, inChannels = 1 }: ModelOptions = {}) {
    super();
    this.features = this.registerModule('features', new Sequential(
      new Conv2d({ inChannels, outChannels: 6, kernelSize: 5 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }),
      new Conv2d({ inChannels: 6, outChannels: 16, kernelSize: 5 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }),
    ));
    this.classifier = this.registerModule('classifier', new Sequential(
      new Linear({ inFeatures: 16 * 4 * 4, outFeatures: 120 }), new ReLU(),
      new Linear({ inFeatures: 120, outFeatures: 84 }), new ReLU(),
      new Linear({ inFeatures: 84, outFeatures: numClasses }),
    ));
  }

  forward(x: Tensor): Tensor {
    // In eval without hooks, the whole network as one native call (small-network.ts).
    return runSmallNetwork([this.features, flattenAll, this.classifier], x) ?? this.classifier.call(flatten(this.features.call(x)));
  }

  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    return ctx.module(this.classifier, ctx.module(new Flatten(), ctx.module(this.features, x)));
  }
}
