// DenseNet-121 as torchvision builds it: dense blocks whose layers (BN → ReLU → 1×1 conv →
// BN → ReLU → 3×3 conv) each see the concatenation of every earlier feature map of the block,
// and transitions (BN → ReLU → 1×1 conv → 2×2 average pool) halving channels and size.
import { Conv2d, BatchNorm2d, ReLU, MaxPool2d, AvgPool2d, Linear, AdaptiveAvgPool2d, flatten, Flatten, NamedSequential } from '../nn/index.js';
import { Module } from '../nn/module.js';
import { kaimingNormal_, zeros_, ones_ } from '../nn/init.js';
import { Tensor } from '../tensor/tensor.js';
import * as ops from '../tensor/ops.js';
import { adaptiveAvgPool2d } from '../tensor/pool.js';
import { cat, leadingChannelsAffine, writeChannels, affineAvgPool2x2 } from '../tensor/channels.js';
import { emptyFloat32 } from '../tensor/storage.js';
import { runLayers, asLayer, affineFoldable, batchNormAffine, activationClamp, foldable, foldedWeights, pointwise, separateWindows } from '../nn/fusion.js';
import { conv2dMapped } from '../tensor/conv-mapped.js';
import { denseLayerSmallMaps } from './dense-layer-small-maps.js';
import { dropout } from '../tensor/dropout.js';
import { probability, type ModelOptions } from './options.js';
import type { OnnxExporter, OnnxValue } from '../nn/onnx-export.js';

export class DenseLayer extends Module {
  readonly norm1: BatchNorm2d;
  readonly relu1 = new ReLU();
  readonly conv1: Conv2d;
  readonly norm2: BatchNorm2d;
  readonly relu2 = new ReLU();
  readonly conv2: Conv2d;
  private readonly dropRate: number;

  constructor(inputFeatures: number, growthRate: number, bnSize: number, dropRate: number) {
    super();
    this.norm1 = this.registerModule('norm1', new BatchNorm2d({ numFeatures: inputFeatures }));
    this.registerModule('relu1', this.relu1);
    this.conv1 = this.registerModule('conv1', new Conv2d({ inChannels: inputFeatures, outChannels: bnSize * growthRate, kernelSize: 1, bias: false }));
    this.norm2 = this.registerModule('norm2', new BatchNorm2d({ numFeatures: bnSize * growthRate }));
    this.registerModule('relu2', this.relu2);
    this.conv2 = this.registerModule('conv2', new Conv2d({ inChannels: bnSize * growthRate, outChannels: growthRate, kernelSize: 3, padding: 1, bias: false }));
    this.dropRate = dropRate;
  }

  /** x: the block's features so far, already concatenated. norm → relu pairs run as one pass, and in eval conv1 → norm2 → relu2 as one convolution (runLayers). */
  forward(x: Tensor): Tensor {
    return dropout(runLayers([this.norm1, this.relu1, this.conv1, this.norm2, this.relu2, this.conv2], x), this.dropRate, this.training);
  }

  /** Whether eval may run this layer on its block's features in place (forwardGathered): no training, gradient or hook, norm1 → relu1 foldable. */
  gathers(): boolean {
    return !this.training && !this.hasHooks() && !this.relu1.hasHooks() && affineFoldable(this.norm1, this.relu1);
  }

  /**
   * The layer (where it gathers) on the first `channels` channels of its block's features, its new
   * channels written after them: on maps of a few pixels as one native call (denseLayerSmallMaps);
   * elsewhere norm1 → relu1 applied as conv1 reads them (conv2dMapped, with norm2 folded into conv1
   * and relu2 its epilogue), or where that path does not run, as they are copied out, then forward's
   * fused rest.
   */
  forwardInto(features: Tensor, channels: number): void {
    asLayer(this, () => {
      if (denseLayerSmallMaps(this, features, channels)) return;
      const { scale, shift } = batchNormAffine(this.norm1);
      const map = { channels, scale, shift, clamp: activationClamp(this.relu1) };
      const clamp2 = activationClamp(this.relu2);
      let y: Tensor | null = null;
      if (foldable(this.conv1, this.norm2) && clamp2) {
        const { weight, bias } = foldedWeights(this.conv1, this.norm2);
        const bottleneck = asLayer(this.conv1, () => conv2dMapped(features, map, weight, bias, clamp2));
        if (bottleneck) y = this.conv2.call(bottleneck);
      }
      y ??= runLayers([this.conv1, this.norm2, this.relu2, this.conv2], leadingChannelsAffine(features, channels, scale, shift, map.clamp));
      writeChannels(features, y, channels);
    });
  }

  /** Dropout is the identity in eval mode. */
  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    const bottleneck = ctx.module(this.conv1, ctx.module(this.relu1, ctx.module(this.norm1, x)));
    return ctx.module(this.conv2, ctx.module(this.relu2, ctx.module(this.norm2, bottleneck)));
  }
}

export class DenseBlock extends Module {
  private readonly layers: DenseLayer[] = [];

  constructor(numLayers: number, inputFeatures: number, bnSize: number, growthRate: number, dropRate: number) {
    super();
    for (let i = 0; i < numLayers; i++) {
      this.layers.push(this.registerModule(`denselayer${i + 1}`, new DenseLayer(inputFeatures + i * growthRate, growthRate, bnSize, dropRate)));
    }
  }

  /**
   * In eval (every layer gathers): one tensor of the block's output, each layer reading its input
   * from the channels filled so far and writing its new ones after them, so no layer gathers a
   * list of tensors piece by piece and nothing is concatenated at the end. Otherwise each layer on
   * the concatenation of the features so far, as torchvision.
   */
  forward(x: Tensor): Tensor {
    if (x.ndim === 4 && this.layers.every((l) => l.gathers())) {
      const [n, c, h, w] = x.shape;
      const total = c + this.layers.reduce((a, l) => a + l.conv2.outChannels, 0);
      const out = new Tensor(emptyFloat32(n * total * h * w), [n, total, h, w]);
      writeChannels(out, x, 0);
      let filled = c;
      for (const layer of this.layers) {
        layer.forwardInto(out, filled);
        filled += layer.conv2.outChannels;
      }
      return out;
    }
    const features = [x];
    for (const layer of this.layers) features.push(layer.call(features.length === 1 ? features[0] : cat(features, 1)));
    return cat(features, 1);
  }

  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    const features = [x];
    for (const layer of this.layers) features.push(ctx.module(layer, features.length === 1 ? x : ctx.concat(features)));
    return ctx.concat(features);
  }
}

/**
 * torchvision's transition: BN → ReLU → 1×1 conv → 2×2 average pool. In eval the pool goes first,
 * in one pass with BN → ReLU (affineAvgPool2x2), and the convolution runs on a quarter of the
 * pixels: a 1×1 convolution and an average pool commute. Hooks on any of them keep the order.
 */
class Transition extends NamedSequential {
  readonly norm: BatchNorm2d;
  readonly relu: ReLU;
  readonly conv: Conv2d;
  readonly pool: AvgPool2d;

  constructor(inputFeatures: number, outputFeatures: number) {
    super([]);
    this.norm = new BatchNorm2d({ numFeatures: inputFeatures });
    this.relu = new ReLU();
    this.conv = new Conv2d({ inChannels: inputFeatures, outChannels: outputFeatures, kernelSize: 1, bias: false });
    this.pool = new AvgPool2d({ kernelSize: 2, stride: 2 });
  }

  override forward(x: Tensor): Tensor {
    const clamp = activationClamp(this.relu), { conv, pool } = this;
    if (x.ndim === 4 && clamp && affineFoldable(this.norm, this.relu) && !this.hasHooks() && !conv.hasHooks() && !pool.hasHooks() &&
      pointwise(conv) && separateWindows(pool) && pool.kernelSize.every((k) => k === 2) && !pool.ceilMode) {
      const { scale, shift } = batchNormAffine(this.norm);
      return conv.call(affineAvgPool2x2(x, scale, shift, clamp));
    }
    return super.forward(x);
  }

  /** torchvision's order. */
  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    return ctx.module(this.pool, ctx.module(this.conv, ctx.module(this.relu, ctx.module(this.norm, x))));
  }
}

export class DenseNet extends Module {
  features: NamedSequential;
  classifier: Linear;

  constructor(growthRate: number, blockConfig: readonly number[], initFeatures: number, { numClasses = 1000, inChannels = 3, dropout }: ModelOptions = {}) {
    super();
    // torchvision's drop_rate: dropout after every dense layer (default 0).
    const dropRate = probability(dropout, 0, 'dropout');
    const bnSize = 4;
    const entries: [string, Module][] = [
      ['conv0', new Conv2d({ inChannels, outChannels: initFeatures, kernelSize: 7, stride: 2, padding: 3, bias: false })],
      ['norm0', new BatchNorm2d({ numFeatures: initFeatures })],
      ['relu0', new ReLU()],
      ['pool0', new MaxPool2d({ kernelSize: 3, stride: 2, padding: 1 })],
    ];
    let features = initFeatures;
    blockConfig.forEach((layers, i) => {
      entries.push([`denseblock${i + 1}`, new DenseBlock(layers, features, bnSize, growthRate, dropRate)]);
      features += layers * growthRate;
      if (i !== blockConfig.length - 1) {
        entries.push([`transition${i + 1}`, new Transition(features, features >> 1)]);
        features >>= 1;
      }
    });
    entries.push(['norm5', new BatchNorm2d({ numFeatures: features })]);
    this.features = this.registerModule('features', new NamedSequential(entries));
    this.classifier = this.registerModule('classifier', new Linear({ inFeatures: features, outFeatures: numClasses }));
    for (const m of this.modules()) {
      if (m instanceof Conv2d) kaimingNormal_(m.weight);
      else if (m instanceof BatchNorm2d) {
        ones_(m.weight!);
        zeros_(m.bias!);
      } else if (m instanceof Linear && m.bias) zeros_(m.bias);
    }
  }

  forward(x: Tensor): Tensor {
    return this.classifier.call(flatten(adaptiveAvgPool2d(ops.relu(this.features.call(x)), [1, 1])));
  }

  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    const features = ctx.module(this.features, x);
    const relu = ctx.apply('Relu', [features], ops.relu(features.tensor));
    return ctx.module(this.classifier, ctx.module(new Flatten(), ctx.module(new AdaptiveAvgPool2d(1), relu)));
  }
}

export const densenet121 = (o?: ModelOptions) => new DenseNet(32, [6, 12, 24, 16], 64, o);
