// The initialization torchvision gives VGG, MobileNet, EfficientNet and RegNet: convolutions
// kaiming-normal (fan_out, gain √2), biases zero, BatchNorm weight 1 / bias 0, linear layers
// N(0, 0.01) with zero bias unless the model draws its linear weights another way.
import { Module } from '../nn/module.js';
import { Conv2d } from '../nn/conv.js';
import { BatchNorm2d } from '../nn/norm.js';
import { Linear } from '../nn/linear.js';
import { kaimingNormal_, normal_, zeros_, ones_ } from '../nn/init.js';

export function initConvBnLinear(model: Module, linearWeight: (l: Linear) => void = (l) => normal_(l.weight, 0, 0.01)): void {
  for (const m of model.modules()) {
    if (m instanceof Conv2d) {
      kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
      if (m.bias) zeros_(m.bias);
    } else if (m instanceof BatchNorm2d) {
      ones_(m.weight!);
      zeros_(m.bias!);
    } else if (m instanceof Linear) {
      linearWeight(m);
      if (m.bias) zeros_(m.bias);
    }
  }
}
