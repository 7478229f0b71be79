export { MODELS, getModel, buildModel } from './registry.js';
export type { ModelEntry } from './registry.js';
export type { ModelOptions } from './options.js';
export { LeNet5 } from './lenet.js';
export { SimpleCNN } from './simplecnn.js';
export { VGG, VGG_CONFIGS } from './vgg.js';
export { ResNet, BasicBlock, Bottleneck, resnet18, resnet34, resnet50, resnet101, resnet152 } from './resnet.js';
export { MobileNetV1, MobileNetV2, InvertedResidual } from './mobilenet.js';
