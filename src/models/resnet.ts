// ResNet 18/34/50/101/152 as torchvision builds them (BasicBlock; Bottleneck with expansion 4
// and the stride on its 3×3), plus a small-input stem for 32×32 data.
import { Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d, flatten, Flatten, Linear, AdaptiveAvgPool2d, Identity } from '../nn/index.js';
import { Module } from '../nn/module.js';
import { runLayers, runResidual } from '../nn/fusion.js';
import { kaimingNormal_, zeros_, ones_ } from '../nn/init.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ModelOptions } from './options.js';
import type { OnnxExporter, OnnxValue } from '../nn/onnx-export.js';

const conv3x3 = (inChannels: number, outChannels: number, stride = 1, groups = 1) =>
  new Conv2d({ inChannels, outChannels, kernelSize: 3, stride, padding: 1, groups, bias: false });
const conv1x1 = (inChannels: number, outChannels: number, stride = 1) =>
  new Conv2d({ inChannels, outChannels, kernelSize: 1, stride, bias: false });

export class BasicBlock extends Module {
  static readonly expansion = 1;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  relu: ReLU;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  downsample: Sequential | null;

  constructor(inplanes: number, planes: number, stride = 1, downsample: Sequential | null = null) {
    super();
    this.conv1 = this.registerModule('conv1', conv3x3(inplanes, planes, stride));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d({ numFeatures: planes }));
    this.relu = this.registerModule('relu', new ReLU());
    this.conv2 = this.registerModule('conv2', conv3x3(planes, planes));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d({ numFeatures: planes }));
    this.downsample = downsample ? this.registerModule('downsample', downsample) : null;
  }

  forward(x: Tensor): Tensor {
    const out = runLayers([this.conv1, this.bn1, this.relu], x);
    return runResidual(this.conv2, this.bn2, out, () => (this.downsample ? this.downsample.call(x) : x), this.relu);
  }

  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    let out = ctx.module(this.relu, ctx.module(this.bn1, ctx.module(this.conv1, x)));
    out = ctx.module(this.bn2, ctx.module(this.conv2, out));
    const identity = this.downsample ? ctx.module(this.downsample, x) : x;
    return ctx.module(this.relu, ctx.add(out, identity));
  }
}

export class Bottleneck extends Module {
  static readonly expansion = 4;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  conv3: Conv2d;
  bn3: BatchNorm2d;
  relu: ReLU;
  downsample: Sequential | null;

  /** groups and baseWidth make it ResNeXt's (32×4d: 32 groups of 4·planes/64 channels). */
  constructor(inplanes: number, planes: number, stride = 1, downsample: Sequential | null = null, groups = 1, baseWidth = 64) {
    super();
    const width = Math.floor(planes * (baseWidth / 64)) * groups;
    this.conv1 = this.registerModule('conv1', conv1x1(inplanes, width));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d({ numFeatures: width }));
    this.conv2 = this.registerModule('conv2', conv3x3(width, width, stride, groups));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d({ numFeatures: width }));
    this.conv3 = this.registerModule('conv3', conv1x1(width, planes * Bottleneck.expansion));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d({ numFeatures: planes * Bottleneck.expansion }));
    this.relu = this.registerModule('relu', new ReLU());
    this.downsample = downsample ? this.registerModule('downsample', downsample) : null;
  }

  forward(x: Tensor): Tensor {
    let out = runLayers([this.conv1, this.bn1, this.relu], x);
    out = runLayers([this.conv2, this.bn2, this.relu], out);
    return runResidual(this.conv3, this.bn3, out, () => (this.downsample ? this.downsample.call(x) : x), this.relu);
  }

  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    let out = ctx.module(this.relu, ctx.module(this.bn1, ctx.module(this.conv1, x)));
    out = ctx.module(this.relu, ctx.module(this.bn2, ctx.module(this.conv2, out)));
    out = ctx.module(this.bn3, ctx.module(this.conv3, out));
    const identity = this.downsample ? ctx.module(this.downsample, x) : x;
    return ctx.module(this.relu, ctx.add(out, identity));
  }
}

type Block = typeof BasicBlock | typeof Bottleneck;

export class ResNet extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  relu: ReLU;
  maxpool: Module;
  layer1: Sequential;
  layer2: Sequential;
  layer3: Sequential;
  layer4: Sequential;
  avgpool: AdaptiveAvgPool2d;
  fc: Linear;
  private inplanes = 64;
  private readonly groups: number;
  private readonly baseWidth: number;

  constructor(block: Block, layers: [number, number, number, number], { numClasses = 1000, inChannels = 3, stem = 'imagenet' }: ModelOptions = {},
    { groups = 1, widthPerGroup = 64 }: { groups?: number; widthPerGroup?: number } = {}) {
    super();
    this.groups = groups;
    this.baseWidth = widthPerGroup;
    this.conv1 = this.registerModule('conv1', stem === 'cifar'
      ? conv3x3(inChannels, 64)
      : new Conv2d({ inChannels, outChannels: 64, kernelSize: 7, stride: 2, padding: 3, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d({ numFeatures: 64 }));
    this.relu = this.registerModule('relu', new ReLU());
    this.maxpool = this.registerModule('maxpool', stem === 'cifar' ? new Identity() : new MaxPool2d({ kernelSize: 3, stride: 2, padding: 1 }));
    this.layer1 = this.registerModule('layer1', this.makeLayer(block, 64, layers[0]));
    this.layer2 = this.registerModule('layer2', this.makeLayer(block, 128, layers[1], 2));
    this.layer3 = this.registerModule('layer3', this.makeLayer(block, 256, layers[2], 2));
    this.layer4 = this.registerModule('layer4', this.makeLayer(block, 512, layers[3], 2));
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.fc = this.registerModule('fc', new Linear({ inFeatures: 512 * block.expansion, outFeatures: numClasses }));
    for (const m of this.modules()) {
      if (m instanceof Conv2d) kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
      else if (m instanceof BatchNorm2d) {
        ones_(m.weight!);
        zeros_(m.bias!);
      }
    }
  }

  private makeLayer(block: Block, planes: number, blocks: number, stride = 1): Sequential {
    let downsample: Sequential | null = null;
    if (stride !== 1 || this.inplanes !== planes * block.expansion) {
      downsample = new Sequential(conv1x1(this.inplanes, planes * block.expansion, stride), new BatchNorm2d({ numFeatures: planes * block.expansion }));
    }
    const out: Module[] = [new block(this.inplanes, planes, stride, downsample, this.groups, this.baseWidth)];
    this.inplanes = planes * block.expansion;
    for (let i = 1; i < blocks; i++) out.push(new block(this.inplanes, planes, 1, null, this.groups, this.baseWidth));
    return new Sequential(...out);
  }

  forward(x: Tensor): Tensor {
    x = this.maxpool.call(runLayers([this.conv1, this.bn1, this.relu], x));
    x = this.layer4.call(this.layer3.call(this.layer2.call(this.layer1.call(x))));
    return this.fc.call(flatten(this.avgpool.call(x)));
  }

  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    x = ctx.module(this.maxpool, ctx.module(this.relu, ctx.module(this.bn1, ctx.module(this.conv1, x))));
    x = ctx.module(this.layer4, ctx.module(this.layer3, ctx.module(this.layer2, ctx.module(this.layer1, x))));
    return ctx.module(this.fc, ctx.module(new Flatten(), ctx.module(this.avgpool, x)));
  }
}

export const resnet18 = (o?: ModelOptions) => new ResNet(BasicBlock, [2, 2, 2, 2], o);
export const resnet34 = (o?: ModelOptions) => new ResNet(BasicBlock, [3, 4, 6, 3], o);
export const resnet50 = (o?: ModelOptions) => new ResNet(Bottleneck, [3, 4, 6, 3], o);
export const resnet101 = (o?: ModelOptions) => new ResNet(Bottleneck, [3, 4, 23, 3], o);
export const resnet152 = (o?: ModelOptions) => new ResNet(Bottleneck, [3, 8, 36, 3], o);
export const resnext50_32x4d = (o?: ModelOptions) => new ResNet(Bottleneck, [3, 4, 6, 3], o, { groups: 32, widthPerGroup: 4 });
