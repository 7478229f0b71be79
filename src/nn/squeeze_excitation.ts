import type { Tensor } from '../tensor/tensor.js';
import { channelScale } from '../tensor/channels.js';
import { Module } from './module.js';
import { Conv2d } from './conv.js';
import { AdaptiveAvgPool2d } from './pool.js';
import { ReLU, Sigmoid } from './activation.js';
import { positiveInt } from './options.js';

export interface SqueezeExcitationOptions {
  inputChannels: number;
  squeezeChannels: number;
  /** After fc1 (default ReLU). */
  activation?: () => Module;
  /** The gate after fc2 (default Sigmoid; MobileNet v3 uses Hardsigmoid). */
  scaleActivation?: () => Module;
}

/**
 * Squeeze-and-excitation as torchvision.ops.SqueezeExcitation: global average pool → fc1
 * (1×1 conv) → activation → fc2 (1×1 conv) → gate, and the input scaled per channel by it.
 */
export class SqueezeExcitation extends Module {
  readonly avgpool: AdaptiveAvgPool2d;
  readonly fc1: Conv2d;
  readonly fc2: Conv2d;
  readonly activation: Module;
  readonly scaleActivation: Module;

  constructor(o: SqueezeExcitationOptions) {
    super();
    const c = positiveInt(o.inputChannels, 'inputChannels'), s = positiveInt(o.squeezeChannels, 'squeezeChannels');
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.fc1 = this.registerModule('fc1', new Conv2d({ inChannels: c, outChannels: s, kernelSize: 1 }));
    this.fc2 = this.registerModule('fc2', new Conv2d({ inChannels: s, outChannels: c, kernelSize: 1 }));
    this.activation = this.registerModule('activation', o.activation ? o.activation() : new ReLU());
    this.scaleActivation = this.registerModule('scale_activation', o.scaleActivation ? o.scaleActivation() : new Sigmoid());
  }

  forward(x: Tensor): Tensor {
    const scale = this.scaleActivation.call(this.fc2.call(this.activation.call(this.fc1.call(this.avgpool.call(x)))));
    return channelScale(x, scale);
  }
}
