// Eval-mode fusion of a whole inverted residual block (MobileNetV2): expand 1×1 → BN → ReLU6,
// depthwise → BN → ReLU6, project 1×1 → BN (+ the input) run as one native call over folded
// weights (tensor/inverted-residual.ts), so the expanded channels stay in cache instead of going
// out to memory and through the depthwise kernel's layout changes per layer. Where anything needs
// the layers one by one (training, recorded gradients, hooks on the block or any layer in it, a
// layer that is not of the expected kind), the caller runs them as before: fusion.ts folds each
// Conv2d → BatchNorm2d → ReLU6 on its own.
import { isGradEnabled } from '../tensor/tensor.js';
import type { Tensor } from '../tensor/tensor.js';
import { invertedResidual, type BlockLayer } from '../tensor/inverted-residual.js';
import type { Module } from './module.js';
import { Conv2d } from './conv.js';
import { Sequential } from './container.js';
import { foldable, foldedWeights, activationClamp } from './fusion.js';

let enabled = true;

/** Turns whole-block fusion on or off (process-wide): the tests and benchmarks compare it with the layer-by-layer path. */
export function setInvertedResidualFusion(on: boolean): void {
  enabled = on;
}

/**
 * Map pixels from which a block without expansion fuses (on NCHW planes): 32 → 16 channels, CPU ms
 * at 1 thread against layer by layer, interleaved: 16×112×112 6.7-6.9 vs 7.7-8.7, 32×32×32
 * 1.03-1.15 vs 1.33-1.58, 16×48×48 1.37-1.54 vs 1.34-1.70, and on 128×16×16 1.66-1.93 vs 1.37-2.16
 * (per-channel row copies and short rows cost more than the round trip they save).
 */
const MIN_PLANE_PIXELS = 32 * 32;

/** A 1×1 convolution without stride, padding, dilation or groups. */
function pointwise(conv: Conv2d): boolean {
  return conv.kernelSize.every((k) => k === 1) && conv.stride.every((s) => s === 1) && conv.dilation.every((d) => d === 1) &&
    conv.pads.every((p) => p === 0) && conv.groups === 1;
}

/** conv → bn (→ activation) as a folded layer, or undefined where it cannot fold. */
function foldedLayer(layers: readonly Module[], withActivation: boolean): { conv: Conv2d; layer: BlockLayer } | undefined {
  const [conv, bn, act] = layers;
  if (layers.length !== (withActivation ? 3 : 2) || !foldable(conv, bn)) return undefined;
  const clamp = withActivation ? activationClamp(act) : undefined;
  if (withActivation && !clamp) return undefined;
  const { weight, bias } = foldedWeights(conv as Conv2d, bn);
  return { conv: conv as Conv2d, layer: { weight, bias, ...(clamp ? { clamp } : {}) } };
}

/** The children of a Sequential stage that no hook observes, else undefined. */
function stage(m: Module | undefined): Module[] | undefined {
  return m instanceof Sequential && !m.hasHooks() ? [...m.children()] : undefined;
}

/**
 * The block's output through the fused kernel, or undefined where it does not apply. `layers`:
 * the block's conv Sequential's children, torchvision's [expand stage (conv, bn, act)]?,
 * depthwise stage (conv, bn, act), project conv, project bn. A block without the expand stage
 * (MobileNetV2's first) fuses at stride 1 on maps of MIN_PLANE_PIXELS or more, where the kernel
 * keeps it on NCHW planes; at other strides it would go channel-last, transposing its input in and
 * its depthwise output out with no expanded map to keep in cache in exchange, slower than layer
 * by layer (32 → 16 channels on 128×16×16 1.06 vs 1.42 ms, on 16×112×112 9.5 vs 10.4 ms).
 */
export function runInvertedResidualFused(layers: readonly Module[], x: Tensor, residual: boolean): Tensor | undefined {
  if (!enabled || isGradEnabled() || x.ndim !== 4 || (layers.length !== 4 && layers.length !== 3)) return undefined;
  const expandStage = layers.length === 4 ? stage(layers[0]) : null, dwStage = stage(layers[layers.length - 3]);
  if (expandStage === undefined || !dwStage) return undefined;
  const expand = expandStage ? foldedLayer(expandStage, true) : null;
  const dw = foldedLayer(dwStage, true);
  const project = foldedLayer(layers.slice(-2), false);
  if (expand === undefined || (expand && !pointwise(expand.conv)) || !dw || !project || !pointwise(project.conv)) return undefined;
  const d = dw.conv;
  if (d.groups !== d.inChannels || d.outChannels !== d.inChannels || d.paddingMode !== 'zeros') return undefined;
  if (!expand && (d.stride.some((s) => s !== 1) || x.shape[2] * x.shape[3] < MIN_PLANE_PIXELS)) return undefined;
  // The packs are kept under the project convolution: its folded weights come new when any weights change.
  return invertedResidual(x, expand ? expand.layer : null, { ...dw.layer, stride: d.stride, pads: d.pads, dilation: d.dilation }, project.layer, residual,
    project.conv);
}
