// VGG 11/13/16/19 with and without BatchNorm, torchvision's layout and initialization.
import { Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d, Dropout, flatten, Flatten, Linear, AdaptiveAvgPool2d } from '../nn/index.js';
import { Module } from '../nn/module.js';
import { initConvBnLinear } from './init.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ModelOptions } from './options.js';
import type { OnnxExporter, OnnxValue } from '../nn/onnx-export.js';

type Cfg = (number | 'M')[];

export const VGG_CONFIGS: Record<11 | 13 | 16 | 19, Cfg> = {
  11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  13: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
};

export class VGG extends Module {
  features: Sequential;
  avgpool: AdaptiveAvgPool2d;
  classifier: Sequential;

  constructor(cfg: Cfg, batchNorm: boolean, { numClasses = 1000, inChannels = 3 }: ModelOptions = {}) {
    super();
    const layers: Module[] = [];
    let c = inChannels;
    for (const v of cfg) {
      if (v === 'M') {
        layers.push(new MaxPool2d({ kernelSize: 2, stride: 2 }));
      } else {
        layers.push(new Conv2d({ inChannels: c, outChannels: v, kernelSize: 3, padding: 1 }));
        if (batchNorm) layers.push(new BatchNorm2d({ numFeatures: v }));
        layers.push(new ReLU());
        c = v;
      }
    }
    this.features = this.registerModule('features', new Sequential(...layers));
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d(7));
    this.classifier = this.registerModule('classifier', new Sequential(
      new Linear({ inFeatures: 512 * 7 * 7, outFeatures: 4096 }), new ReLU(), new Dropout(0.5),
      new Linear({ inFeatures: 4096, outFeatures: 4096 }), new ReLU(), new Dropout(0.5),
      new Linear({ inFeatures: 4096, outFeatures: numClasses }),
    ));
    initConvBnLinear(this);
  }

  forward(x: Tensor): Tensor {
    return this.classifier.call(flatten(this.avgpool.call(this.features.call(x))));
  }

  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    return ctx.module(this.classifier, ctx.module(new Flatten(), ctx.module(this.avgpool, ctx.module(this.features, x))));
  }
}
