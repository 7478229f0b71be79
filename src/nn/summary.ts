// A per-layer table of a model: output shapes, parameters, multiply-adds and receptive fields,
// from one forward pass of a single zero image with hooks on every layer.
import { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import { Conv2d, ConvTranspose2d } from './conv.js';
import { Linear } from './linear.js';
import { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d } from './pool.js';
import { receptiveField, type ReceptiveField } from './shape.js';

export interface LayerRow {
  /** State-dict path of the layer (e.g. layer1.0.conv1). */
  path: string;
  type: string;
  outputShape: number[];
  params: number;
  macs: number;
  /** Along height and width: the input pixels one output unit sees. */
  receptiveField: { h: ReceptiveField; w: ReceptiveField } | null;
}

export interface ModelSummary {
  layers: LayerRow[];
  totalParams: number;
  trainableParams: number;
  frozenParams: number;
  totalMacs: number;
  /** Bytes of every layer's output for one image (float32). */
  activationBytes: number;
  paramBytes: number;
  inputShape: number[];
}

type RF2 = { h: ReceptiveField; w: ReceptiveField };

function isLeaf(m: Module): boolean {
  return m.children().next().done === true;
}

function ownParams(m: Module): Tensor[] {
  return [...m.namedParameters()].filter(([name]) => !name.includes('.')).map(([, p]) => p);
}

/** The receptive-field step of a layer along each axis, or null if it keeps the field. */
function layerGeometry(m: Module, input: Tensor): { h: Parameters<typeof receptiveField>[0][0]; w: Parameters<typeof receptiveField>[0][0] } | null {
  if (m instanceof Conv2d) {
    return {
      h: { kernelSize: m.kernelSize[0], stride: m.stride[0], padding: m.pads[0], dilation: m.dilation[0] },
      w: { kernelSize: m.kernelSize[1], stride: m.stride[1], padding: m.pads[2], dilation: m.dilation[1] },
    };
  }
  if (m instanceof MaxPool2d) {
    return {
      h: { kernelSize: m.kernelSize[0], stride: m.stride[0], padding: m.padding[0], dilation: m.dilation[0] },
      w: { kernelSize: m.kernelSize[1], stride: m.stride[1], padding: m.padding[1], dilation: m.dilation[1] },
    };
  }
  if (m instanceof AvgPool2d) {
    return {
      h: { kernelSize: m.kernelSize[0], stride: m.stride[0], padding: m.padding[0] },
      w: { kernelSize: m.kernelSize[1], stride: m.stride[1], padding: m.padding[1] },
    };
  }
  if (m instanceof AdaptiveAvgPool2d || m instanceof AdaptiveMaxPool2d) {
    // Bins of ceil(in/out) pixels every floor(in/out): exact when divisible, an upper bound otherwise.
    const out = m.outputSize;
    const [oh, ow] = typeof out === 'number' ? [out, out] : [out[0] ?? input.shape[2], out[1] ?? input.shape[3]];
    const axis = (inp: number, o: number) => ({ kernelSize: Math.ceil(inp / o), stride: Math.max(1, Math.floor(inp / o)) });
    return { h: axis(input.shape[input.ndim - 2], oh), w: axis(input.shape[input.ndim - 1], ow) };
  }
  return null;
}

function macsOf(m: Module, input: Tensor, output: Tensor): number {
  if (m instanceof Conv2d) return output.size * (m.inChannels / m.groups) * m.kernelSize[0] * m.kernelSize[1];
  if (m instanceof ConvTranspose2d) return input.size * (m.outChannels / m.groups) * m.kernelSize[0] * m.kernelSize[1];
  if (m instanceof Linear) return output.size * m.inFeatures;
  return 0;
}

function maxRF(a: RF2, b: RF2): RF2 {
  const pick = (x: ReceptiveField, y: ReceptiveField) => (y.size > x.size ? y : x);
  return { h: pick(a.h, b.h), w: pick(a.w, b.w) };
}

/** Runs model on a zero batch of one `inputShape` (C×H×W) image and tabulates every layer. */
export function summarize(model: Module, inputShape: readonly number[]): ModelSummary {
  const leaves = [...model.namedModules()].filter(([path, m]) => path !== '' && isLeaf(m));
  const seen = new Map<Module, { input: Tensor; output: Tensor }>();
  // Each output remembers its own call's input: a module used twice (ResNet's relu) has two.
  const producedBy = new Map<Tensor, { layer: Module; input: Tensor }>();
  const handles = leaves.map(([, m]) => m.registerForwardHook((mod, inputs, output) => {
    if (!seen.has(mod)) seen.set(mod, { input: inputs[0], output });
    // Identity hands its input through; that tensor keeps the layer that made it.
    if (output !== inputs[0]) producedBy.set(output, { layer: mod, input: inputs[0] });
  }));
  const wasTraining = model.training;
  model.eval();
  const x = Tensor.zeros([1, ...inputShape], true);
  try {
    model.call(x);
  } finally {
    handles.forEach((h) => h.remove());
    model.train(wasTraining);
  }

  // Receptive fields follow the recorded graph: layers apply their geometry, other ops (residual
  // additions, reshapes) take the largest field among their inputs.
  const base: RF2 = { h: { size: 1, jump: 1, start: 0.5 }, w: { size: 1, jump: 1, start: 0.5 } };
  const memo = new Map<Tensor, RF2 | null>();
  const rfOf = (t: Tensor): RF2 | null => {
    if (t === x) return base;
    if (memo.has(t)) return memo.get(t)!;
    memo.set(t, null);
    let rf: RF2 | null = null;
    const produced = producedBy.get(t);
    if (produced) {
      const { layer, input } = produced;
      const from = rfOf(input);
      const g = from && layerGeometry(layer, input);
      rf = from && g ? { h: receptiveField([g.h], from.h), w: receptiveField([g.w], from.w) } : from;
    } else if (t.gradFn) {
      for (const inp of t.gradFn.inputs) {
        const r = rfOf(inp);
        if (r) rf = rf ? maxRF(rf, r) : r;
      }
    }
    memo.set(t, rf);
    return rf;
  };

  const layers: LayerRow[] = [];
  let activationBytes = 0;
  for (const [path, m] of leaves) {
    const rec = seen.get(m);
    if (!rec) continue;
    const params = ownParams(m).reduce((s, p) => s + p.size, 0);
    const spatial = rec.output.ndim === 4;
    layers.push({
      path, type: m.typeName, outputShape: [...rec.output.shape], params,
      macs: macsOf(m, rec.input, rec.output), receptiveField: spatial ? rfOf(rec.output) : null,
    });
    activationBytes += rec.output.size * 4;
  }
  const all = model.parameters();
  const totalParams = all.reduce((s, p) => s + p.size, 0);
  const trainableParams = all.filter((p) => p.requiresGrad).reduce((s, p) => s + p.size, 0);
  return {
    layers, totalParams, trainableParams, frozenParams: totalParams - trainableParams,
    totalMacs: layers.reduce((s, l) => s + l.macs, 0), activationBytes, paramBytes: totalParams * 4,
    inputShape: [...inputShape],
  };
}
