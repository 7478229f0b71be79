// MobileNet v3 Small as torchvision builds it: inverted residuals with ReLU or Hardswish,
// squeeze-and-excitation gated by Hardsigmoid, BatchNorm with eps 1e-3 and momentum 0.01.
import { Sequential, BatchNorm2d, ReLU, Linear, AdaptiveAvgPool2d, flatten, Flatten, Dropout, Hardswish, Hardsigmoid, SqueezeExcitation } from '../nn/index.js';
import { Module } from '../nn/module.js';
import { initConvBnLinear } from './init.js';
import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../tensor/ops.js';
import { convNormAct, makeDivisible } from './blocks.js';
import { runInvertedResidualFused } from '../nn/inverted-residual-fusion.js';
import { probability, type ModelOptions } from './options.js';
import type { OnnxExporter, OnnxValue } from '../nn/onnx-export.js';

/** input, kernel, expanded, output channels, SE, Hardswish (else ReLU), stride. */
type Bneck = [number, number, number, number, boolean, boolean, number];

const SMALL: Bneck[] = [
  [16, 3, 16, 16, true, false, 2],
  [16, 3, 72, 24, false, false, 2],
  [24, 3, 88, 24, false, false, 1],
  [24, 5, 96, 40, true, true, 2],
  [40, 5, 240, 40, true, true, 1],
  [40, 5, 240, 40, true, true, 1],
  [40, 5, 120, 48, true, true, 1],
  [48, 5, 144, 48, true, true, 1],
  [48, 5, 288, 96, true, true, 2],
  [96, 5, 576, 96, true, true, 1],
  [96, 5, 576, 96, true, true, 1],
];

const norm = (c: number) => new BatchNorm2d({ numFeatures: c, eps: 0.001, momentum: 0.01 });

export class InvertedResidualV3 extends Module {
  readonly block: Sequential;
  private readonly useResidual: boolean;

  constructor([input, kernel, expanded, output, useSe, useHs, stride]: Bneck) {
    super();
    this.useResidual = stride === 1 && input === output;
    const activation = useHs ? () => new Hardswish() : () => new ReLU();
    const layers: Module[] = [];
    if (expanded !== input) layers.push(convNormAct(input, expanded, { kernelSize: 1, norm, activation }));
    layers.push(convNormAct(expanded, expanded, { kernelSize: kernel, stride, groups: expanded, norm, activation }));
    if (useSe) {
      layers.push(new SqueezeExcitation({ inputChannels: expanded, squeezeChannels: makeDivisible(Math.floor(expanded / 4), 8), scaleActivation: () => new Hardsigmoid() }));
    }
    layers.push(convNormAct(expanded, output, { kernelSize: 1, norm, activation: null }));
    this.block = this.registerModule('block', new Sequential(...layers));
  }

  // torchvision's class is InvertedResidual; the summary shows that name.
  override get typeName(): string {
    return 'InvertedResidual';
  }

  forward(x: Tensor): Tensor {
    if (!this.block.hasHooks()) {
      // Eval without hooks: the whole block as one kernel over folded weights.
      const fused = runInvertedResidualFused(this.block, x, this.useResidual);
      if (fused) return fused;
    }
    const y = this.block.call(x);
    return this.useResidual ? ops.add(y, x) : y;
  }

  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    const y = ctx.module(this.block, x);
    return this.useResidual ? ctx.add(y, x) : y;
  }
}

export class MobileNetV3 extends Module {
  features: Sequential;
  readonly avgpool: AdaptiveAvgPool2d;
  classifier: Sequential;

  constructor(setting: Bneck[], lastChannel: number, { numClasses = 1000, inChannels = 3, dropout }: ModelOptions = {}) {
    super();
    const dropoutP = probability(dropout, 0.2, 'dropout');
    const hardswish = () => new Hardswish();
    const layers: Module[] = [convNormAct(inChannels, setting[0][0], { stride: 2, norm, activation: hardswish })];
    for (const b of setting) layers.push(new InvertedResidualV3(b));
    const lastIn = setting[setting.length - 1][3], lastOut = 6 * lastIn;
    layers.push(convNormAct(lastIn, lastOut, { kernelSize: 1, norm, activation: hardswish }));
    this.features = this.registerModule('features', new Sequential(...layers));
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.classifier = this.registerModule('classifier', new Sequential(
      new Linear({ inFeatures: lastOut, outFeatures: lastChannel }),
      new Hardswish(),
      new Dropout(dropoutP),
      new Linear({ inFeatures: lastChannel, outFeatures: numClasses }),
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

export const mobilenetV3Small = (o?: ModelOptions) => new MobileNetV3(SMALL, 1024, o);
