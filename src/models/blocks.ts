// Building blocks shared by the torchvision models: Conv2dNormActivation and _make_divisible.
import { Sequential, Conv2d, BatchNorm2d } from '../nn/index.js';
import type { Module } from '../nn/module.js';

export interface ConvNormActOptions {
  kernelSize?: number;
  stride?: number;
  /** Default (kernelSize - 1)/2·dilation, as torchvision's. */
  padding?: number;
  groups?: number;
  dilation?: number;
  /** The norm layer for outChannels; null for none. Default BatchNorm2d. */
  norm?: ((channels: number) => Module) | null;
  /** null for none (projections). */
  activation: (() => Module) | null;
  /** Default: a bias only without a norm layer. */
  bias?: boolean;
}

/** Conv → norm → activation as torchvision's Conv2dNormActivation (children 0, 1, 2). */
export function convNormAct(inChannels: number, outChannels: number, o: ConvNormActOptions): Sequential {
  const kernelSize = o.kernelSize ?? 3, dilation = o.dilation ?? 1;
  const norm = o.norm === undefined ? (c: number) => new BatchNorm2d({ numFeatures: c }) : o.norm;
  const layers: Module[] = [new Conv2d({
    inChannels, outChannels, kernelSize, stride: o.stride ?? 1, padding: o.padding ?? ((kernelSize - 1) >> 1) * dilation,
    dilation, groups: o.groups ?? 1, bias: o.bias ?? norm === null,
  })];
  if (norm) layers.push(norm(outChannels));
  if (o.activation) layers.push(o.activation());
  return new Sequential(...layers);
}

/** torchvision's _make_divisible: v rounded to a multiple of divisor, never below 90% of v. */
export function makeDivisible(v: number, divisor: number, minValue = divisor): number {
  let out = Math.max(minValue, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (out < 0.9 * v) out += divisor;
  return out;
}
