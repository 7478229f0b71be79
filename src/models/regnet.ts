// RegNetY-400MF as torchvision builds it: stage widths and depths from the RegNet design
// space's quantized linear rule (BlockParams.from_init_params), residual bottleneck blocks
// with grouped 3×3 convolutions and squeeze-and-excitation.
import { ReLU, Linear, AdaptiveAvgPool2d, flatten, Flatten, NamedSequential, SqueezeExcitation, Sequential } from '../nn/index.js';
import { Module } from '../nn/module.js';
import { initConvBnLinear } from './init.js';
import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../tensor/ops.js';
import { convNormAct, makeDivisible } from './blocks.js';
import type { ModelOptions } from './options.js';
import type { OnnxExporter, OnnxValue } from '../nn/onnx-export.js';

export interface RegNetParams {
  depth: number;
  w0: number;
  wa: number;
  wm: number;
  groupWidth: number;
  bottleneckMultiplier?: number;
  seRatio?: number;
}

interface Stage {
  width: number;
  depth: number;
  groupWidth: number;
  bottleneckMultiplier: number;
}

/** torchvision's BlockParams.from_init_params: per-block widths w0 + i·wa, quantized to powers of wm, grouped into stages. */
export function regnetStages(p: RegNetParams): Stage[] {
  const QUANT = 8;
  if (p.wa < 0 || p.w0 <= 0 || p.wm <= 1 || p.w0 % 8 !== 0) throw new RangeError('Invalid RegNet settings');
  const f32 = Math.fround;
  const widths: number[] = [];
  for (let i = 0; i < p.depth; i++) {
    // float32 as torch computes it, so rounding ties land where they do there.
    const cont = f32(f32(i * f32(p.wa)) + p.w0);
    const capacity = Math.round(f32(f32(Math.log(f32(cont / p.w0))) / f32(Math.log(p.wm))));
    widths.push(Math.round(f32(f32(p.w0 * f32(Math.pow(f32(p.wm), capacity))) / QUANT)) * QUANT);
  }
  const stages: Stage[] = [];
  for (const w of widths) {
    const last = stages[stages.length - 1];
    if (last && last.width === w) last.depth++;
    else stages.push({ width: w, depth: 1, groupWidth: p.groupWidth, bottleneckMultiplier: p.bottleneckMultiplier ?? 1 });
  }
  // _adjust_widths_groups_compatibilty: the bottleneck width a multiple of the group width.
  for (const s of stages) {
    const bottleneck = Math.trunc(s.width * s.bottleneckMultiplier);
    s.groupWidth = Math.min(s.groupWidth, bottleneck);
    s.width = Math.trunc(makeDivisible(bottleneck, s.groupWidth) / s.bottleneckMultiplier);
  }
  return stages;
}

const relu = () => new ReLU();

export class ResBottleneckBlock extends Module {
  readonly proj: Sequential | null;
  readonly f: NamedSequential;
  readonly activation: ReLU;

  constructor(widthIn: number, widthOut: number, stride: number, groupWidth: number, bottleneckMultiplier: number, seRatio: number | undefined) {
    super();
    this.proj = widthIn !== widthOut || stride !== 1
      ? this.registerModule('proj', convNormAct(widthIn, widthOut, { kernelSize: 1, stride, activation: null }))
      : null;
    const wb = Math.round(widthOut * bottleneckMultiplier);
    const layers: [string, Module][] = [
      ['a', convNormAct(widthIn, wb, { kernelSize: 1, activation: relu })],
      ['b', convNormAct(wb, wb, { stride, groups: Math.floor(wb / groupWidth), activation: relu })],
    ];
    if (seRatio) layers.push(['se', new SqueezeExcitation({ inputChannels: wb, squeezeChannels: Math.round(seRatio * widthIn), activation: relu })]);
    layers.push(['c', convNormAct(wb, widthOut, { kernelSize: 1, activation: null })]);
    this.f = this.registerModule('f', new NamedSequential(layers));
    this.activation = this.registerModule('activation', new ReLU());
  }

  forward(x: Tensor): Tensor {
    const shortcut = this.proj ? this.proj.call(x) : x;
    return this.activation.call(ops.add(shortcut, this.f.call(x)));
  }

  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    const shortcut = this.proj ? ctx.module(this.proj, x) : x;
    return ctx.module(this.activation, ctx.add(shortcut, ctx.module(this.f, x)));
  }
}

export class RegNet extends Module {
  readonly stem: Sequential;
  readonly trunkOutput: NamedSequential;
  readonly avgpool: AdaptiveAvgPool2d;
  fc: Linear;

  constructor(params: RegNetParams, { numClasses = 1000, inChannels = 3 }: ModelOptions = {}) {
    super();
    const stemWidth = 32;
    this.stem = this.registerModule('stem', convNormAct(inChannels, stemWidth, { stride: 2, activation: relu }));
    let width = stemWidth;
    const stages = regnetStages(params).map((s, i): [string, Module] => {
      const blocks: [string, Module][] = [];
      for (let j = 0; j < s.depth; j++) {
        blocks.push([`block${i + 1}-${j}`, new ResBottleneckBlock(j === 0 ? width : s.width, s.width, j === 0 ? 2 : 1, s.groupWidth, s.bottleneckMultiplier, params.seRatio)]);
      }
      width = s.width;
      return [`block${i + 1}`, new NamedSequential(blocks)];
    });
    this.trunkOutput = this.registerModule('trunk_output', new NamedSequential(stages));
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.fc = this.registerModule('fc', new Linear({ inFeatures: width, outFeatures: numClasses }));
    // torchvision's normal(0, √(2/fan_out)) with fan_out = kh·kw·out_channels is kaiming-normal's fan_out rule.
    initConvBnLinear(this);
  }

  forward(x: Tensor): Tensor {
    return this.fc.call(flatten(this.avgpool.call(this.trunkOutput.call(this.stem.call(x)))));
  }

  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    return ctx.module(this.fc, ctx.module(new Flatten(), ctx.module(this.avgpool, ctx.module(this.trunkOutput, ctx.module(this.stem, x)))));
  }
}

export const regnetY400mf = (o?: ModelOptions) => new RegNet({ depth: 16, w0: 48, wa: 27.89, wm: 2.09, groupWidth: 8, seRatio: 0.25 }, o);
