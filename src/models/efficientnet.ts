// EfficientNet-B0 as torchvision builds it: MBConv blocks (expand 1×1, depthwise k×k, squeeze-
// and-excitation with SiLU, project 1×1) with stochastic depth growing linearly over the blocks.
import { Sequential, Linear, AdaptiveAvgPool2d, flatten, Flatten, Dropout, SiLU, StochasticDepth, SqueezeExcitation } from '../nn/index.js';
import { Module } from '../nn/module.js';
import { uniform_ } from '../nn/init.js';
import { initConvBnLinear } from './init.js';
import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../tensor/ops.js';
import { convNormAct } from './blocks.js';
import { runInvertedResidualFused } from '../nn/inverted-residual-fusion.js';
import { probability, type ModelOptions } from './options.js';
import type { OnnxExporter, OnnxValue } from '../nn/onnx-export.js';

/** One stage: expand ratio, kernel, first stride, input and output channels, blocks. */
interface StageConfig {
  expandRatio: number;
  kernel: number;
  stride: number;
  inChannels: number;
  outChannels: number;
  layers: number;
}

const B0: StageConfig[] = [
  { expandRatio: 1, kernel: 3, stride: 1, inChannels: 32, outChannels: 16, layers: 1 },
  { expandRatio: 6, kernel: 3, stride: 2, inChannels: 16, outChannels: 24, layers: 2 },
  { expandRatio: 6, kernel: 5, stride: 2, inChannels: 24, outChannels: 40, layers: 2 },
  { expandRatio: 6, kernel: 3, stride: 2, inChannels: 40, outChannels: 80, layers: 3 },
  { expandRatio: 6, kernel: 5, stride: 1, inChannels: 80, outChannels: 112, layers: 3 },
  { expandRatio: 6, kernel: 5, stride: 2, inChannels: 112, outChannels: 192, layers: 4 },
  { expandRatio: 6, kernel: 3, stride: 1, inChannels: 192, outChannels: 320, layers: 1 },
];

export class MBConv extends Module {
  readonly block: Sequential;
  readonly stochasticDepth: StochasticDepth;
  private readonly useResidual: boolean;

  constructor(inChannels: number, outChannels: number, kernel: number, stride: number, expandRatio: number, dropPath: number) {
    super();
    this.useResidual = stride === 1 && inChannels === outChannels;
    const expanded = inChannels * expandRatio;
    const silu = () => new SiLU();
    const layers: Module[] = [];
    if (expanded !== inChannels) layers.push(convNormAct(inChannels, expanded, { kernelSize: 1, activation: silu }));
    layers.push(
      convNormAct(expanded, expanded, { kernelSize: kernel, stride, groups: expanded, activation: silu }),
      new SqueezeExcitation({ inputChannels: expanded, squeezeChannels: Math.max(1, Math.floor(inChannels / 4)), activation: silu }),
      convNormAct(expanded, outChannels, { kernelSize: 1, activation: null }),
    );
    this.block = this.registerModule('block', new Sequential(...layers));
    this.stochasticDepth = this.registerModule('stochastic_depth', new StochasticDepth(dropPath, 'row'));
  }

  forward(x: Tensor): Tensor {
    if (!this.block.hasHooks() && !this.stochasticDepth.hasHooks() && !this.stochasticDepth.training) {
      // Eval without hooks: the whole block as one kernel over folded weights (stochastic depth is the identity).
      const fused = runInvertedResidualFused(this.block, x, this.useResidual);
      if (fused) return fused;
    }
    const y = this.block.call(x);
    return this.useResidual ? ops.add(this.stochasticDepth.call(y), x) : y;
  }

  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    const y = ctx.module(this.block, x);
    return this.useResidual ? ctx.add(ctx.module(this.stochasticDepth, y), x) : y;
  }
}

export class EfficientNet extends Module {
  features: Sequential;
  readonly avgpool: AdaptiveAvgPool2d;
  classifier: Sequential;

  constructor(stages: StageConfig[], { numClasses = 1000, inChannels = 3, dropout, dropPath }: ModelOptions = {}) {
    super();
    const dropoutP = probability(dropout, 0.2, 'dropout');
    const dropPathP = probability(dropPath, 0.2, 'dropPath');
    const layers: Module[] = [convNormAct(inChannels, stages[0].inChannels, { stride: 2, activation: () => new SiLU() })];
    const total = stages.reduce((n, s) => n + s.layers, 0);
    let id = 0;
    for (const s of stages) {
      const stage: Module[] = [];
      for (let i = 0; i < s.layers; i++) {
        stage.push(new MBConv(i === 0 ? s.inChannels : s.outChannels, s.outChannels, s.kernel, i === 0 ? s.stride : 1, s.expandRatio, dropPathP * id / total));
        id++;
      }
      layers.push(new Sequential(...stage));
    }
    const last = stages[stages.length - 1].outChannels, head = 4 * last;
    layers.push(convNormAct(last, head, { kernelSize: 1, activation: () => new SiLU() }));
    this.features = this.registerModule('features', new Sequential(...layers));
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.classifier = this.registerModule('classifier', new Sequential(new Dropout(dropoutP), new Linear({ inFeatures: head, outFeatures: numClasses })));
    initConvBnLinear(this, (l) => uniform_(l.weight, -1 / Math.sqrt(l.outFeatures), 1 / Math.sqrt(l.outFeatures)));
  }

  forward(x: Tensor): Tensor {
    return this.classifier.call(flatten(this.avgpool.call(this.features.call(x))));
  }

  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    return ctx.module(this.classifier, ctx.module(new Flatten(), ctx.module(this.avgpool, ctx.module(this.features, x))));
  }
}

export const efficientnetB0 = (o?: ModelOptions) => new EfficientNet(B0, o);
