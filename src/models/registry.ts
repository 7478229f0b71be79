// Model builders by name, with the input each expects by default.
import type { Module } from '../nn/module.js';
import { LeNet5 } from './lenet.js';
import { SimpleCNN } from './simplecnn.js';
import { VGG, VGG_CONFIGS } from './vgg.js';
import { resnet18, resnet34, resnet50, resnet101, resnet152, resnext50_32x4d } from './resnet.js';
import { MobileNetV1, MobileNetV2 } from './mobilenet.js';
import { mobilenetV3Small } from './mobilenetv3.js';
import { efficientnetB0 } from './efficientnet.js';
import { convnextTiny } from './convnext.js';
import { densenet121 } from './densenet.js';
import { regnetY400mf } from './regnet.js';
import type { ModelOptions } from './options.js';
import { ConfigError } from '../errors.js';

export interface ModelEntry {
  name: string;
  description: string;
  /** C×H×W the model is designed for (channels follow inChannels). */
  defaultInput: [number, number, number];
  defaultClasses: number;
  /** Which of the dropout/dropPath builder options the model has a place for. */
  takes?: readonly ('dropout' | 'dropPath')[];
  build(o?: ModelOptions): Module;
}

const vgg = (depth: 11 | 13 | 16 | 19, bn: boolean): ModelEntry => ({
  name: `vgg${depth}${bn ? '_bn' : ''}`,
  description: `VGG-${depth}${bn ? ' with BatchNorm' : ''} (torchvision layout)`,
  defaultInput: [3, 224, 224],
  defaultClasses: 1000,
  build: (o) => new VGG(VGG_CONFIGS[depth], bn, o),
});

const imagenet = (name: string, fn: (o?: ModelOptions) => Module, description: string, takes: ModelEntry['takes'] = []): ModelEntry => ({
  name, description, defaultInput: [3, 224, 224], defaultClasses: 1000, takes, build: fn,
});

const ENTRIES: ModelEntry[] = [
  { name: 'lenet5', description: 'LeNet-5 for 28×28 grayscale digits and clothes', defaultInput: [1, 28, 28], defaultClasses: 10, build: (o) => new LeNet5(o) },
  { name: 'simplecnn', description: 'three conv stages with BatchNorm and dropout, for 32×32 images', defaultInput: [3, 32, 32], defaultClasses: 10, build: (o) => new SimpleCNN(o) },
  vgg(11, false), vgg(11, true), vgg(13, false), vgg(13, true), vgg(16, false), vgg(16, true), vgg(19, false), vgg(19, true),
  imagenet('resnet18', resnet18, 'ResNet-18 (BasicBlock ×[2,2,2,2]); --stem cifar for 32×32 input'),
  imagenet('resnet34', resnet34, 'ResNet-34 (BasicBlock ×[3,4,6,3])'),
  imagenet('resnet50', resnet50, 'ResNet-50 (Bottleneck ×[3,4,6,3])'),
  imagenet('resnet101', resnet101, 'ResNet-101 (Bottleneck ×[3,4,23,3])'),
  imagenet('resnet152', resnet152, 'ResNet-152 (Bottleneck ×[3,8,36,3])'),
  { name: 'mobilenet_v1', description: 'MobileNet v1 from depthwise-separable convolutions', defaultInput: [3, 224, 224], defaultClasses: 1000, build: (o) => new MobileNetV1(o) },
  { name: 'mobilenet_v2', description: 'MobileNet v2 (torchvision layout, inverted residuals)', defaultInput: [3, 224, 224], defaultClasses: 1000, build: (o) => new MobileNetV2(o) },
  imagenet('mobilenet_v3_small', mobilenetV3Small, 'MobileNet v3 Small (Hardswish, squeeze-and-excitation)', ['dropout']),
  imagenet('efficientnet_b0', efficientnetB0, 'EfficientNet-B0 (MBConv with SiLU and squeeze-and-excitation, stochastic depth)', ['dropout', 'dropPath']),
  imagenet('convnext_tiny', convnextTiny, 'ConvNeXt-Tiny (7×7 depthwise, LayerNorm, GELU, layer scale, stochastic depth)', ['dropPath']),
  imagenet('densenet121', densenet121, 'DenseNet-121 (dense blocks of concatenated features)', ['dropout']),
  imagenet('regnet_y_400mf', regnetY400mf, 'RegNetY-400MF (grouped bottlenecks with squeeze-and-excitation)'),
  imagenet('resnext50_32x4d', resnext50_32x4d, 'ResNeXt-50 32×4d (Bottleneck ×[3,4,6,3], 32 groups)'),
];

export const MODELS: ReadonlyMap<string, ModelEntry> = new Map(ENTRIES.map((e) => [e.name, e]));

export function getModel(name: string): ModelEntry {
  const entry = MODELS.get(name);
  if (!entry) throw new ConfigError(`unknown model '${name}' (known: ${[...MODELS.keys()].join(', ')})`, '--model');
  return entry;
}

/** Whether the model has a choice of stem (--stem). */
export function modelTakesStem(name: string): boolean {
  return name.startsWith('resnet');
}

export function buildModel(name: string, o: ModelOptions = {}): Module {
  const entry = getModel(name);
  if (o.stem === 'cifar' && !modelTakesStem(name)) throw new ConfigError(`--stem applies to ResNets only, not ${name}`, '--stem');
  for (const [option, flag] of [['dropout', '--dropout'], ['dropPath', '--drop-path']] as const) {
    if (o[option] !== undefined && !entry.takes?.includes(option)) {
      const which = [...MODELS.values()].filter((e) => e.takes?.includes(option)).map((e) => e.name);
      throw new ConfigError(`${flag} applies to ${which.join(', ')}, not ${name}`, flag);
    }
  }
  return entry.build({ numClasses: entry.defaultClasses, ...o });
}
