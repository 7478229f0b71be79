// ConvNeXt-Tiny as torchvision builds it: a 4×4 patchify stem, CNBlocks (depthwise 7×7 → NHWC
// LayerNorm → Linear 4× → GELU → Linear → NCHW, layer scale, stochastic depth, residual) and
// LayerNorm2d + 2×2 stride-2 convolutions between the stages.
import { Sequential, Conv2d, Linear, AdaptiveAvgPool2d, Flatten, GELU, StochasticDepth, Permute, LayerNorm, LayerNorm2d } from '../nn/index.js';
import { Module } from '../nn/module.js';
import { truncNormal_, zeros_ } from '../nn/init.js';
import { Tensor, isGradEnabled } from '../tensor/tensor.js';
import * as ops from '../tensor/ops.js';
import { channelScale } from '../tensor/channels.js';
import { convnextMlp } from '../tensor/convnext-mlp.js';
import { convNormAct } from './blocks.js';
import { probability, type ModelOptions } from './options.js';
import type { OnnxExporter, OnnxValue } from '../nn/onnx-export.js';

/** One stage: its channels, the next stage's (null for the last) and its blocks. */
interface StageConfig {
  inChannels: number;
  outChannels: number | null;
  layers: number;
}

const TINY: StageConfig[] = [
  { inChannels: 96, outChannels: 192, layers: 3 },
  { inChannels: 192, outChannels: 384, layers: 3 },
  { inChannels: 384, outChannels: 768, layers: 9 },
  { inChannels: 768, outChannels: null, layers: 3 },
];

const LAYER_SCALE = 1e-6;
const layerNorm2d = (c: number) => new LayerNorm2d({ normalizedShape: c, eps: 1e-6 });

export class CNBlock extends Module {
  readonly block: Sequential;
  readonly layerScale: Tensor;
  readonly stochasticDepth: StochasticDepth;

  constructor(dim: number, layerScale: number, dropPath: number) {
    super();
    this.block = this.registerModule('block', new Sequential(
      new Conv2d({ inChannels: dim, outChannels: dim, kernelSize: 7, padding: 3, groups: dim }),
      new Permute([0, 2, 3, 1]),
      new LayerNorm({ normalizedShape: dim, eps: 1e-6 }),
      new Linear({ inFeatures: dim, outFeatures: 4 * dim }),
      new GELU(),
      new Linear({ inFeatures: 4 * dim, outFeatures: dim }),
      new Permute([0, 3, 1, 2]),
    ));
    this.layerScale = this.registerParameter('layer_scale', Tensor.full([dim, 1, 1], layerScale));
    this.stochasticDepth = this.registerModule('stochastic_depth', new StochasticDepth(dropPath, 'row'));
  }

  forward(x: Tensor): Tensor {
    const fused = this.fusedTail(x);
    if (fused) return fused;
    return ops.add(this.stochasticDepth.call(channelScale(this.block.call(x), this.layerScale)), x);
  }

  /**
   * Eval without gradients or hooks: the depthwise convolution, then everything after it as one
   * native call (tensor/convnext-mlp.ts). Ahead of layer by layer in every stage, even the last
   * two, whose Linear weights (4.7 and 18.9 MB) each run of pixels reads again (128×3×32×32: 8.1 →
   * 7.2 ms per 384-channel block, 7.8 → 7.2 per 768-channel one; 8×3×224×224: 14.8 → 16.7 img/s).
   */
  private fusedTail(x: Tensor): Tensor | undefined {
    const [conv, , ln, fc1, gelu, fc2] = [...this.block.children()];
    if (isGradEnabled() || this.training || this.stochasticDepth.training || x.ndim !== 4 || [...this.modules()].some((m) => m.hasHooks())) return undefined;
    if (!(ln instanceof LayerNorm) || !(fc1 instanceof Linear) || !(fc2 instanceof Linear) || !(gelu instanceof GELU) || gelu.approximate !== 'none') return undefined;
    return convnextMlp(conv.call(x), x, { ln, fc1, fc2, scale: this.layerScale }, this);
  }

  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    const scaled = ctx.channelScale(ctx.module(this.block, x), ctx.parameter('layer_scale', this.layerScale));
    return ctx.add(ctx.module(this.stochasticDepth, scaled), x);
  }
}

export class ConvNeXt extends Module {
  readonly features: Sequential;
  readonly avgpool: AdaptiveAvgPool2d;
  readonly classifier: Sequential;

  constructor(stages: StageConfig[], { numClasses = 1000, inChannels = 3, dropPath }: ModelOptions = {}, defaultDropPath = 0.1) {
    super();
    const dropPathP = probability(dropPath, defaultDropPath, 'dropPath');
    const layers: Module[] = [convNormAct(inChannels, stages[0].inChannels, { kernelSize: 4, stride: 4, padding: 0, norm: layerNorm2d, activation: null, bias: true })];
    const total = stages.reduce((n, s) => n + s.layers, 0);
    let id = 0;
    for (const s of stages) {
      const stage: Module[] = [];
      for (let i = 0; i < s.layers; i++) stage.push(new CNBlock(s.inChannels, LAYER_SCALE, dropPathP * id++ / (total - 1)));
      layers.push(new Sequential(...stage));
      if (s.outChannels !== null) {
        layers.push(new Sequential(layerNorm2d(s.inChannels), new Conv2d({ inChannels: s.inChannels, outChannels: s.outChannels, kernelSize: 2, stride: 2 })));
      }
    }
    this.features = this.registerModule('features', new Sequential(...layers));
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    const last = stages[stages.length - 1];
    const width = last.outChannels ?? last.inChannels;
    this.classifier = this.registerModule('classifier', new Sequential(layerNorm2d(width), new Flatten(1), new Linear({ inFeatures: width, outFeatures: numClasses })));
    for (const m of this.modules()) {
      if (m instanceof Conv2d || m instanceof Linear) {
        truncNormal_(m.weight, 0, 0.02);
        if (m.bias) zeros_(m.bias);
      }
    }
  }

  forward(x: Tensor): Tensor {
    return this.classifier.call(this.avgpool.call(this.features.call(x)));
  }

  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    return ctx.module(this.classifier, ctx.module(this.avgpool, ctx.module(this.features, x)));
  }
}

export const convnextTiny = (o?: ModelOptions) => new ConvNeXt(TINY, o, 0.1);
