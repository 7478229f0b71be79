// The CIFAR network: three conv stages (3×3, BN, ReLU; pool; dropout 0.25), then 2048→512→classes.
import { Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d, Dropout, flatten, Flatten, Linear } from '../nn/index.js';
import { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ModelOptions } from './options.js';
import type { OnnxExporter, OnnxValue } from '../nn/onnx-export.js';

function convBnRelu(inChannels: number, outChannels: number): Module[] {
  return [new Conv2d({ inChannels, outChannels, kernelSize: 3, padding: 1 }), new BatchNorm2d({ numFeatures: outChannels }), new ReLU()];
}

export class SimpleCNN extends Module {
  features: Sequential;
  classifier: Sequential;

  constructor({ numClasses = 10, inChannels = 3 }: ModelOptions = {}) {
    super();
    const pool = () => [new MaxPool2d({ kernelSize: 2 }), new Dropout(0.25)];
    this.features = this.registerModule('features', new Sequential(
      ...convBnRelu(inChannels, 32), ...convBnRelu(32, 32), ...pool(),
      ...convBnRelu(32, 64), ...convBnRelu(64, 64), ...pool(),
      ...convBnRelu(64, 128), ...pool(),
    ));
    this.classifier = this.registerModule('classifier', new Sequential(
      new Linear({ inFeatures: 128 * 4 * 4, outFeatures: 512 }), new ReLU(), new Dropout(0.5),
      new Linear({ inFeatures: 512, outFeatures: numClasses }),
    ));
  }

  forward(x: Tensor): Tensor {
    return this.classifier.call(flatten(this.features.call(x)));
  }

  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    return ctx.module(this.classifier, ctx.module(new Flatten(), ctx.module(this.features, x)));
  }
}
