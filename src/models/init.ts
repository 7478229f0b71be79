// The initialization torchvision gives VGG and MobileNet: convolutions kaiming-normal (fan_out,
// gain √2), biases zero, BatchNorm weight 1 / bias 0, linear layers N(0, 0.01) with zero bias.
import { Module } from '../nn/module.js';
import { Conv2d } from '../nn/conv.js';
import { BatchNorm2d } from '../nn/norm.js';
import { Linear } from '../nn/linear.js';
import { kaimingNormal_, normal_, zeros_, ones_ } from '../nn/init.js';

export function initConvBnLinear(model: Module): void {
  for (const m of model.modules()) {
    if (m instanceof Conv2d) {
      kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
      if (m.bias) zeros_(m.bias);
    } else if (m instanceof BatchNorm2d) {
      ones_(m.weight!);
      zeros_(m.bias!);
    } else if (m instanceof Linear) {
      normal_(m.weight, 0, 0.01);
      if (m.bias) zeros_(m.bias);
    }
  }
}
