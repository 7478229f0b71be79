// Grad-CAM and Grad-CAM++ through module hooks, as PyTorch users write them: a forward hook
// keeps the target layer's activation A, a full backward hook keeps dScore/dA, and the map is
// ReLU(Σ_k α_k A^k), min-max normalized. The score is the class logit (pytorch-grad-cam's
// ClassifierOutputTarget).
import { CnnError } from '../errors.js';
import { Tensor, formatShape, isGradEnabled, noGrad } from '../tensor/tensor.js';
import { Conv2d } from '../nn/conv.js';
import type { Module } from '../nn/module.js';
import { resizeBilinear } from './resample.js';

export type CamMethod = 'gradcam' | 'gradcam++';

export interface GradCamOptions {
  /** Dotted module path ('features.3', 'layer4.1.conv2'); default: see defaultCamLayer. */
  layer?: string;
  /** The class whose logit is explained; default: the predicted class. */
  classIndex?: number;
  method?: CamMethod;
}

export interface GradCamResult {
  /** h×w at the layer's resolution, in [0,1]. */
  cam: Tensor;
  /** H×W at the input's resolution (bilinear, align_corners=False), in [0,1]. */
  upsampled: Tensor;
  classIndex: number;
  /** softmax(logits)[classIndex]. */
  probability: number;
  layer: string;
  /** True when the map carries no spatial information (ReLU left it flat, usually all zero); cam is then all zero. */
  allZero: boolean;
}

/** Bad layer or class requests: the CLI reports these as user errors. */
export class VizError extends CnnError {}

// pytorch-grad-cam's scale_cam_image epsilon: a flat map divides 0 by it and stays 0.
const NORMALIZE_EPS = 1e-7;
// pytorch-grad-cam's Grad-CAM++ denominator epsilon.
const PLUSPLUS_EPS = 1e-6;

function checkInput(input: Tensor): void {
  if (input.ndim !== 4 || input.shape[0] !== 1) {
    throw new VizError(`expected one image as a 1xCxHxW tensor but received shape ${formatShape(input.shape)}`);
  }
}

/** The module at a dotted path, or a VizError that lists the paths there are. */
export function findLayer(model: Module, layer: string): Module {
  const m = model.getSubmodule(layer);
  if (!m || layer === '') {
    const names = [...model.namedModules()].map(([p]) => p).filter((p) => p !== '');
    const shown = names.length > 40 ? [...names.slice(0, 40), '…'] : names;
    throw new VizError(`unknown layer '${layer}' (layers: ${shown.join(', ')})`);
  }
  return m;
}

/** The last Conv2d (in namedModules order) whose output is at least 2×2 for this input. */
export function defaultCamLayer(model: Module, input: Tensor): string {
  checkInput(input);
  const shapes = new Map<string, readonly number[]>();
  const handles = [...model.namedModules()]
    .filter(([, m]) => m instanceof Conv2d)
    .map(([path, m]) => m.registerForwardHook((_m, _in, out) => { shapes.set(path, out.shape); }));
  try {
    noGrad(() => model.call(input));
  } finally {
    for (const h of handles) h.remove();
  }
  let chosen: string | null = null;
  for (const [path] of model.namedModules()) {
    const s = shapes.get(path);
    if (s && s.length === 4 && s[2] >= 2 && s[3] >= 2) chosen = path;
  }
  if (chosen === null) throw new VizError('the model has no Conv2d layer with an output of at least 2x2 for this input; name one with --layer');
  return chosen;
}

function softmaxAt(logits: Float32Array, k: number): number {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let total = 0;
  for (const v of logits) total += Math.exp(v - max);
  return Math.exp(logits[k] - max) / total;
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Channel weights α_k from the activation A and gradient G, both C×(h·w) in one array. */
function channelWeights(method: CamMethod, a: Float32Array, g: Float32Array, channels: number, plane: number): Float64Array {
  const alpha = new Float64Array(channels);
  for (let k = 0; k < channels; k++) {
    const base = k * plane;
    if (method === 'gradcam') {
      let s = 0;
      for (let i = 0; i < plane; i++) s += g[base + i];
      alpha[k] = s / plane;
    } else {
      // Chattopadhay et al. eq. 19 with Y = exp(score): the second and third derivatives become
      // G² and G³, and exp(score) cancels (pytorch-grad-cam's form).
      let sumA = 0;
      for (let i = 0; i < plane; i++) sumA += a[base + i];
      let w = 0;
      for (let i = 0; i < plane; i++) {
        const gi = g[base + i];
        if (gi === 0) continue;
        const g2 = gi * gi, g3 = g2 * gi;
        const aij = g2 / (2 * g2 + sumA * g3 + PLUSPLUS_EPS);
        w += Math.max(gi, 0) * aij;
      }
      alpha[k] = w;
    }
  }
  return alpha;
}

/** Class activation map of `input` (1×C×H×W) at one layer. Parameters' .grad are left as they were. */
export function gradCam(model: Module, input: Tensor, options: GradCamOptions = {}): GradCamResult {
  checkInput(input);
  if (!isGradEnabled()) throw new VizError('gradCam needs gradients; do not call it inside noGrad()');
  const method = options.method ?? 'gradcam';
  if (method !== 'gradcam' && method !== 'gradcam++') throw new VizError(`unknown CAM method '${String(method)}' (gradcam, gradcam++)`);
  const layer = options.layer ?? defaultCamLayer(model, input);
  const target = findLayer(model, layer);

  let activation: Tensor | null = null;
  let gradient: Tensor | null = null;
  const forwardHandle = target.registerForwardHook((_m, _in, out) => { activation = out; });
  const backwardHandle = target.registerFullBackwardHook((_m, _gin, gout) => { gradient = gout[0]; });
  const params = model.parameters();
  const savedGrads = params.map((p) => p.grad);
  let logits: Tensor;
  let classIndex: number;
  try {
    // A leaf that needs a gradient keeps the tape alive even for a frozen model.
    const x = new Tensor(input.data.slice(), input.shape, true);
    logits = model.call(x);
    if (logits.ndim !== 2 || logits.shape[0] !== 1) throw new VizError(`expected the model to output 1xK logits but it gave ${formatShape(logits.shape)}`);
    const numClasses = logits.shape[1];
    classIndex = options.classIndex ?? argmax(logits.data);
    if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= numClasses) {
      throw new VizError(`class index ${classIndex} is out of range: the model has ${numClasses} classes (0 to ${numClasses - 1})`);
    }
    if (activation === null) throw new VizError(`layer '${layer}' did not run in the forward pass`);
    const a: Tensor = activation;
    if (a.ndim !== 4) throw new VizError(`layer '${layer}' outputs ${formatShape(a.shape)}, not a feature map (N×C×H×W); choose a convolutional layer`);
    const seed = Tensor.zeros(logits.shape);
    seed.data[classIndex] = 1;
    logits.backward(seed);
  } finally {
    forwardHandle.remove();
    backwardHandle.remove();
    params.forEach((p, i) => { p.grad = savedGrads[i]; });
  }
  const a = activation as unknown as Tensor;
  const g = gradient as Tensor | null;
  if (g === null) throw new VizError(`no gradient reached layer '${layer}'`);
  const [, channels, h, w] = a.shape;
  const plane = h * w;
  const alpha = channelWeights(method, a.data, g.data, channels, plane);
  const raw = new Float64Array(plane);
  for (let k = 0; k < channels; k++) {
    const ak = alpha[k], base = k * plane;
    if (ak === 0) continue;
    for (let i = 0; i < plane; i++) raw[i] += ak * a.data[base + i];
  }
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < plane; i++) {
    raw[i] = Math.max(raw[i], 0);
    min = Math.min(min, raw[i]);
    max = Math.max(max, raw[i]);
  }
  const cam = new Float32Array(plane);
  for (let i = 0; i < plane; i++) cam[i] = (raw[i] - min) / (max - min + NORMALIZE_EPS);
  const [, , inH, inW] = input.shape;
  return {
    cam: new Tensor(cam, [h, w]),
    upsampled: new Tensor(resizeBilinear(cam, h, w, inH, inW), [inH, inW]),
    classIndex,
    probability: softmaxAt(logits.data, classIndex),
    layer,
    allZero: !(max - min > 0),
  };
}

/** Each named layer's activation for `input`, in the order asked. */
export function featureMaps(model: Module, input: Tensor, layers: readonly string[]): Map<string, Tensor> {
  checkInput(input);
  const out = new Map<string, Tensor>();
  const modules = layers.map((layer) => findLayer(model, layer));
  const handles = modules.map((m, i) => m.registerForwardHook((_m, _in, y) => { out.set(layers[i], y.detach()); }));
  try {
    noGrad(() => model.call(input));
  } finally {
    for (const h of handles) h.remove();
  }
  for (const layer of layers) if (!out.has(layer)) throw new VizError(`layer '${layer}' did not run in the forward pass`);
  return new Map(layers.map((l) => [l, out.get(l)!]));
}
