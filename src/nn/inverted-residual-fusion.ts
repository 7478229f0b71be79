// Eval-mode fusion of a whole inverted residual block: expand 1×1 → BN → activation, depthwise →
// BN → activation (→ squeeze-and-excitation), project 1×1 → BN (+ the input) run as one native
// call over folded weights (tensor/inverted-residual.ts), so the expanded channels stay in cache
// instead of going out to memory and through the depthwise kernel's layout changes per layer:
// MobileNetV2's blocks (ReLU6), MobileNetV3's (ReLU or Hardswish, SE gated by Hardsigmoid) and
// EfficientNet's MBConv (SiLU, SE gated by Sigmoid). Where anything needs the layers one by one
// (training, recorded gradients, hooks on the block or any layer in it, a layer that is not of the
// expected kind), the caller runs them as before: fusion.ts folds each Conv2d → BatchNorm2d on its own.
import { isGradEnabled } from '../tensor/tensor.js';
import type { Tensor } from '../tensor/tensor.js';
import { invertedResidual, type BlockLayer, type DepthwiseLayer, type SqueezeExcitationLayers } from '../tensor/inverted-residual.js';
import type { BlockGate } from '../tensor/native.js';
import { moduleStructureGeneration, type Module } from './module.js';
import { weightsGeneration } from '../tensor/weights-generation.js';
import { Conv2d } from './conv.js';
import { Sequential } from './container.js';
import { SiLU, Hardswish, Hardsigmoid, Sigmoid } from './activation.js';
import { SqueezeExcitation } from './squeeze_excitation.js';
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

/** The gate the kernel applies for an activation module without hooks, else undefined. */
function activationGate(act: Module | undefined): BlockGate | undefined {
  if (act === undefined || act.hasHooks()) return undefined;
  if (act instanceof SiLU) return 'silu';
  if (act instanceof Hardswish) return 'hardswish';
  if (act instanceof Hardsigmoid) return 'hardsigmoid';
  if (act instanceof Sigmoid) return 'sigmoid';
  return undefined;
}

/** An activation module as the kernel's clamp (ReLU, ReLU6) or gate, or undefined where it has neither. */
function activation(act: Module | undefined): Pick<BlockLayer, 'clamp' | 'gate'> | undefined {
  const clamp = activationClamp(act);
  if (clamp) return { clamp };
  const gate = activationGate(act);
  return gate ? { gate } : undefined;
}

/** conv → bn (→ activation) as a folded layer, or undefined where it cannot fold. */
function foldedLayer(layers: readonly Module[], withActivation: boolean): { conv: Conv2d; layer: BlockLayer } | undefined {
  const [conv, bn, act] = layers;
  if (layers.length !== (withActivation ? 3 : 2) || !foldable(conv, bn)) return undefined;
  const applied = withActivation ? activation(act) : {};
  if (!applied) return undefined;
  const { weight, bias } = foldedWeights(conv as Conv2d, bn);
  return { conv: conv as Conv2d, layer: { weight, bias, ...applied } };
}

/** A SqueezeExcitation without hooks (on it or its layers) as the kernel's layers, else undefined. */
function squeezeLayers(se: Module): SqueezeExcitationLayers | undefined {
  if (!(se instanceof SqueezeExcitation) || [...se.modules()].some((m) => m.hasHooks()) || !pointwise(se.fc1) || !pointwise(se.fc2)) return undefined;
  const act = activation(se.activation), gate = activationGate(se.scaleActivation);
  if (!act || (gate !== 'sigmoid' && gate !== 'hardsigmoid')) return undefined;
  return { fc1: { weight: se.fc1.weight, bias: se.fc1.bias, ...act }, fc2: { weight: se.fc2.weight, bias: se.fc2.bias, gate } };
}

/** The children of a Sequential stage that no hook observes, else undefined. */
function stage(m: Module | undefined): Module[] | undefined {
  return m instanceof Sequential && !m.hasHooks() ? [...m.children()] : undefined;
}

/**
 * The block's output through the fused kernel, or undefined where it does not apply. `block`: a
 * Sequential whose children are torchvision's [expand stage (conv, bn, act)]?, depthwise
 * stage (conv, bn, act), [SqueezeExcitation]?, then the projection: its conv and bn (MobileNetV2)
 * or a stage holding them (MobileNetV3, EfficientNet). A block without the expand stage and
 * without squeeze-and-excitation (MobileNetV2's first) fuses at stride 1 on maps of
 * MIN_PLANE_PIXELS or more, where the kernel keeps it on NCHW planes; at other strides it would go
 * channel-last, transposing its input in and its depthwise output out with no expanded map to
 * keep in cache in exchange, slower than layer by layer (32 → 16 channels on 128×16×16 1.06 vs
 * 1.42 ms, on 16×112×112 9.5 vs 10.4 ms). With squeeze-and-excitation, whose scales need every
 * pixel of an image, the kernel takes whole images, however large: still ahead of layer by layer
 * on every EfficientNet-B0 block at 16×3×224×224 (e.g. 96 channels on 112×112 13.7 against 76.2 ms;
 * the whole model 130 against 228 ms).
 */
export function runInvertedResidualFused(block: Module, x: Tensor, residual: boolean): Tensor | undefined {
  if (!enabled || isGradEnabled() || x.ndim !== 4) return undefined;
  const plan = fusedPlan(block);
  if (!plan || x.shape[2] * x.shape[3] < plan.minPixels) return undefined;
  return invertedResidual(x, plan.expand, plan.depthwise, plan.project, residual, plan.packKey);
}

/** What the kernel takes for a block, derived from its layers; minPixels: the smallest input map it fuses on. */
interface FusedPlan {
  expand: BlockLayer | null;
  depthwise: DepthwiseLayer;
  project: BlockLayer;
  /** The packs are kept under the project convolution: its folded weights come new when any weights change. */
  packKey: Conv2d;
  minPixels: number;
}

const plans = new WeakMap<Module, { structure: number; generation: number; plan: FusedPlan | undefined }>();

/**
 * The block's plan, kept until any module's structure (children, parameters, hooks, training
 * flag) or any weights may have changed: walking the layers through their proxies and checking
 * every fold cost mobilenet_v3_small's eval ~0.19 ms a forward pass (11 blocks; 1,554 → 2,218 img/s
 * at batch 1 on one thread without it).
 */
function fusedPlan(block: Module): FusedPlan | undefined {
  const structure = moduleStructureGeneration(), generation = weightsGeneration();
  const cached = plans.get(block);
  if (cached && cached.structure === structure && cached.generation === generation) return cached.plan;
  const plan = planFor([...block.children()]);
  plans.set(block, { structure, generation, plan });
  return plan;
}

/** The plan for a block's children (`parts`, which it takes apart), or undefined where the kernel does not apply. */
function planFor(parts: Module[]): FusedPlan | undefined {
  const projectStage = parts[parts.length - 1] instanceof Sequential ? stage(parts.pop()) : parts.splice(-2);
  const seModule = parts[parts.length - 1] instanceof SqueezeExcitation ? parts.pop() : undefined;
  if (!projectStage || (parts.length !== 1 && parts.length !== 2)) return undefined;
  const expandStage = parts.length === 2 ? stage(parts[0]) : null, dwStage = stage(parts[parts.length - 1]);
  if (expandStage === undefined || !dwStage) return undefined;
  const expand = expandStage ? foldedLayer(expandStage, true) : null;
  const dw = foldedLayer(dwStage, true);
  const project = foldedLayer(projectStage, false);
  const se = seModule ? squeezeLayers(seModule) : undefined;
  if (expand === undefined || (expand && !pointwise(expand.conv)) || !dw || !project || !pointwise(project.conv) || (seModule && !se)) return undefined;
  const d = dw.conv;
  if (d.groups !== d.inChannels || d.outChannels !== d.inChannels || d.paddingMode !== 'zeros') return undefined;
  const planes = !expand && !se;
  if (planes && (dw.layer.gate || d.stride.some((s) => s !== 1))) return undefined;
  return {
    expand: expand ? expand.layer : null,
    depthwise: { ...dw.layer, stride: d.stride, pads: d.pads, dilation: d.dilation, ...(se ? { se } : {}) },
    project: project.layer, packKey: project.conv, minPixels: planes ? MIN_PLANE_PIXELS : 0,
  };
}
