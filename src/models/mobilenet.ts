// MobileNet v1 (Howard et al. 2017) from DepthwiseSeparableConv blocks, and MobileNet v2 as
// torchvision builds it (inverted residuals with ReLU6, torchvision's names).
import { Sequential, Conv2d, BatchNorm2d, ReLU, flatten, Flatten, Linear, AdaptiveAvgPool2d, Dropout, DepthwiseSeparableConv } from '../nn/index.js';
import { ReLU6 } from '../nn/activation.js';
import { Module } from '../nn/module.js';
import { initConvBnLinear } from './init.js';
import { convNormAct } from './blocks.js';
import { runLayers, runResidual } from '../nn/fusion.js';
import { runInvertedResidualFused } from '../nn/inverted-residual-fusion.js';
import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../tensor/ops.js';
import { adaptiveAvgPool2d } from '../tensor/pool.js';
import type { ModelOptions } from './options.js';
import type { OnnxExporter, OnnxValue } from '../nn/onnx-export.js';

export class MobileNetV1 extends Module {
  features: Sequential;
  avgpool: AdaptiveAvgPool2d;
  fc: Linear;

  constructor({ numClasses = 1000, inChannels = 3 }: ModelOptions = {}) {
    super();
    const blocks: [number, number, number][] = [
      [32, 64, 1], [64, 128, 2], [128, 128, 1], [128, 256, 2], [256, 256, 1], [256, 512, 2],
      [512, 512, 1], [512, 512, 1], [512, 512, 1], [512, 512, 1], [512, 512, 1], [512, 1024, 2], [1024, 1024, 1],
    ];
    this.features = this.registerModule('features', new Sequential(
      convNormAct(inChannels, 32, { stride: 2, activation: () => new ReLU() }),
      ...blocks.map(([i, o, s]) => new DepthwiseSeparableConv({ inChannels: i, outChannels: o, stride: s, batchNorm: true })),
    ));
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.fc = this.registerModule('fc', new Linear({ inFeatures: 1024, outFeatures: numClasses }));
    initConvBnLinear(this);
  }

  forward(x: Tensor): Tensor {
    return this.fc.call(flatten(this.avgpool.call(this.features.call(x))));
  }

  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    return ctx.module(this.fc, ctx.module(new Flatten(), ctx.module(this.avgpool, ctx.module(this.features, x))));
  }
}

export class InvertedResidual extends Module {
  conv: Sequential;
  private readonly useResidual: boolean;

  constructor(inp: number, oup: number, stride: number, expandRatio: number) {
    super();
    const hidden = Math.round(inp * expandRatio);
    this.useResidual = stride === 1 && inp === oup;
    const layers: Module[] = [];
    if (expandRatio !== 1) layers.push(convNormAct(inp, hidden, { kernelSize: 1, activation: () => new ReLU6() }));
    layers.push(
      convNormAct(hidden, hidden, { stride, groups: hidden, activation: () => new ReLU6() }),
      new Conv2d({ inChannels: hidden, outChannels: oup, kernelSize: 1, bias: false }),
      new BatchNorm2d({ numFeatures: oup }),
    );
    this.conv = this.registerModule('conv', new Sequential(...layers));
  }

  forward(x: Tensor): Tensor {
    if (!this.conv.hasHooks()) {
      // Eval without hooks: the whole block as one kernel over folded weights.
      const fused = runInvertedResidualFused(this.conv, x, this.useResidual);
      if (fused) return fused;
    }
    if (!this.useResidual) return this.conv.call(x);
    if (this.conv.hasHooks()) return ops.add(x, this.conv.call(x));
    // The projection (conv → bn) takes x as its epilogue's residual where eval fusion applies.
    const layers = [...this.conv.children()];
    const hidden = runLayers(layers.slice(0, -2), x);
    return runResidual(layers[layers.length - 2], layers[layers.length - 1], hidden, () => x);
  }

  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    const y = ctx.module(this.conv, x);
    return this.useResidual ? ctx.add(x, y) : y;
  }
}

export class MobileNetV2 extends Module {
  features: Sequential;
  classifier: Sequential;

  constructor({ numClasses = 1000, inChannels = 3 }: ModelOptions = {}) {
    super();
    const settings: [number, number, number, number][] = [
      [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
    ];
    const layers: Module[] = [convNormAct(inChannels, 32, { stride: 2, activation: () => new ReLU6() })];
    let input = 32;
    for (const [t, c, n, s] of settings) {
      for (let i = 0; i < n; i++) {
        layers.push(new InvertedResidual(input, c, i === 0 ? s : 1, t));
        input = c;
      }
    }
    layers.push(convNormAct(input, 1280, { kernelSize: 1, activation: () => new ReLU6() }));
    this.features = this.registerModule('features', new Sequential(...layers));
    this.classifier = this.registerModule('classifier', new Sequential(new Dropout(0.2), new Linear({ inFeatures: 1280, outFeatures: numClasses })));
    initConvBnLinear(this);
  }

  forward(x: Tensor): Tensor {
    return this.classifier.call(flatten(adaptiveAvgPool2d(this.features.call(x), [1, 1])));
  }

  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    return ctx.module(this.classifier, ctx.module(new Flatten(), ctx.module(new AdaptiveAvgPool2d(1), ctx.module(this.features, x))));
  }
}
