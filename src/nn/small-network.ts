// Eval's whole small network in one native call (native/conv/small_net.h): convolutions, each
// with its ReLU/ReLU6 and 2×2 max pool, a flatten, then Linear (→ ReLU/ReLU6) layers — LeNet-5 —
// where each thread carries a block of images through every layer with its activations in
// cache, instead of one call, one parallel region and one output tensor per layer. Only without
// a gradient to record, without hooks on any layer or container, with Dropout in eval mode
// (skipped, as it is the identity there) and where every convolution takes the direct path (the
// native side says; a pinned algorithm that is not "direct" keeps the layers). Otherwise null,
// and the caller runs the layers one by one. The arithmetic is the layers' own: the same bits.
import { Tensor, isGradEnabled } from '../tensor/tensor.js';
import { emptyFloat32 } from '../tensor/storage.js';
import { native, getThreads, type SmallNetConv, type SmallNetParams, type LinearChainLayer } from '../tensor/native.js';
import { weightsGeneration } from '../tensor/weights-generation.js';
import { conv2dParams, convOutputShape } from '../tensor/ops.js';
import { moduleStructureGeneration, type Module } from './module.js';
import { Conv2d } from './conv.js';
import { Linear } from './linear.js';
import { Dropout } from './dropout.js';
import { Flatten, Identity, Sequential } from './container.js';
import { activationClamp, pairPool } from './fusion.js';
import { chainLayer } from './linear-chain.js';

/** The layers of `modules` in the order they run: plain Sequentials (their own forward, no hooks) opened up; null where a hook observes one. */
function flattenedLayers(modules: readonly Module[]): Module[] | null {
  const out: Module[] = [];
  for (const m of modules) {
    if (m.hasHooks()) return null;
    if (m instanceof Sequential && m.constructor === Sequential) {
      const inner = flattenedLayers([...m.children()]);
      if (!inner) return null;
      out.push(...inner);
    } else if (!(m instanceof Identity) && !(m instanceof Dropout && !m.training)) {
      out.push(m);
    }
  }
  return out;
}

/** Whether m flattens every axis after the batch (torch.flatten(x, 1)). */
function flattensAll(m: Module | undefined): boolean {
  return m instanceof Flatten && m.startDim === 1 && m.endDim === -1;
}

interface Plan {
  structure: number;
  generation: number;
  modules: readonly Module[];
  shape: readonly number[];
  /** null: the modules do not fit (or may not fuse) for this input shape. */
  params: SmallNetParams | null;
  /** The weight and bias tensors the params read, and the storage each had when planned. */
  tensors: Tensor[];
  sources: Float32Array[];
  width: number;
}

// By the first module. Reading a module's properties goes through its proxy (a few hundred ns
// each): walking LeNet's layers for every batch cost 20 µs, as much as 7% of its eval step.
const plans = new WeakMap<Module, Plan>();

/** Whether plan still describes modules run on x: no module, hook, mode or weight storage changed. */
function current(plan: Plan, modules: readonly Module[], x: Tensor): boolean {
  return plan.structure === moduleStructureGeneration() && plan.generation === weightsGeneration() &&
    plan.modules.length === modules.length && plan.modules.every((m, k) => m === modules[k]) &&
    plan.shape.every((d, k) => d === x.shape[k]) && plan.tensors.every((t, k) => t.data === plan.sources[k]);
}

/** The native call's parameters for modules run on x, or a plan without them where they do not fit. */
function build(modules: readonly Module[], x: Tensor): Plan {
  const plan: Plan = { structure: moduleStructureGeneration(), generation: weightsGeneration(), modules: [...modules], shape: [...x.shape],
    params: null, tensors: [], sources: [], width: 0 };
  const fits = planInto(plan, modules, x);
  // A plan that does not fit depends on no weight storage (then it is not planned again each call).
  if (!fits) plan.tensors = [];
  plan.sources = plan.tensors.map((t) => t.data);
  return plan;
}

/** Fills plan.params (and the tensors they read) where the modules fit; false where not. */
function planInto(plan: Plan, modules: readonly Module[], x: Tensor): boolean {
  const layers = flattenedLayers(modules);
  if (!layers || !(layers[0] instanceof Conv2d)) return false;
  const convs: SmallNetConv[] = [];
  let i = 0, shape = x.shape;
  for (let conv = layers[i]; conv instanceof Conv2d; conv = layers[i]) {
    if (conv.paddingMode !== 'zeros' || shape[1] !== conv.inChannels) return false;
    const p = conv2dParams(shape, conv.weight.shape, { stride: conv.stride, dilation: conv.dilation, groups: conv.groups, padding: conv.pads });
    const clamp = activationClamp(layers[i + 1]);
    i += clamp ? 2 : 1;
    const pooled = pairPool(layers[i]);
    if (pooled) i++;
    convs.push({ ...p, weight: conv.weight.data, bias: conv.bias ? conv.bias.data : null, clamp: clamp ?? [-Infinity, Infinity], pooled });
    plan.tensors.push(conv.weight, ...(conv.bias ? [conv.bias] : []));
    const [, , oh, ow] = convOutputShape(p);
    shape = pooled ? [p.n, p.cOut, Math.floor(oh / 2), Math.floor(ow / 2)] : [p.n, p.cOut, oh, ow];
  }
  if (!flattensAll(layers[i])) return false;
  i++;
  const linears: [Linear, [number, number] | undefined][] = [];
  let width = shape[1] * shape[2] * shape[3];
  for (let layer = layers[i]; layer instanceof Linear && layer.inFeatures === width; layer = layers[i]) {
    const clamp = activationClamp(layers[i + 1]);
    linears.push([layer, clamp]);
    plan.tensors.push(layer.weight, ...(layer.bias ? [layer.bias] : []));
    width = layer.outFeatures;
    i += clamp ? 2 : 1;
  }
  if (linears.length === 0 || i !== layers.length) return false;
  // Only now: a layer's packing is marked current when its chain layer is made, so a network that
  // does not fit must leave that to the layers' own chain.
  const chain: LinearChainLayer[] = linears.map(([layer, clamp]) => chainLayer(layer, clamp));
  plan.params = { convs, layers: chain };
  plan.width = width;
  return true;
}

/**
 * The modules run in order on x (Sequentials among them opened up) as one native call: one or
 * more Conv2d (→ ReLU/ReLU6) (→ MaxPool2d 2×2) stages, a Flatten, then one or more Linear
 * (→ ReLU/ReLU6). Null, having done nothing, where they do not all fit that or may not fuse.
 * The parameters are built once and reused while nothing they depend on changes.
 */
export function runSmallNetwork(modules: readonly Module[], x: Tensor): Tensor | null {
  if (isGradEnabled() || x.ndim !== 4) return null;
  let plan = plans.get(modules[0]);
  if (!plan || !current(plan, modules, x)) plans.set(modules[0], (plan = build(modules, x)));
  if (!plan.params) return null;
  const n = x.shape[0], y = emptyFloat32(n * plan.width);
  if (!native.smallNetForward(plan.params, x.data, y, getThreads())) return null;
  // Packed by this call: later calls reuse the packing until the weights generation moves.
  for (const layer of plan.params.layers) layer.fresh = false;
  return new Tensor(y, [n, plan.width]);
}
