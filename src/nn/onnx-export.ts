// ONNX export by walking modules. Each layer type maps to the ONNX nodes that compute exactly its
// eval-mode forward (one row of ONNX_OPS); a composite module whose forward is more than its
// children in order (a residual add) describes itself with a toOnnx() hook. Any other module is
// refused by name: a model is never exported wrong. The walk also runs our forward on a probe
// input, which gives every value its true shape and lets the export check the hooks against
// model.forward before anything is written.
import { Tensor, noGrad, formatShape } from '../tensor/tensor.js';
import { CnnError } from '../errors.js';
import * as ops from '../tensor/ops.js';
import { OnnxGraph, encodeOnnxModel, type OnnxAttribute, type OnnxDim } from '../io/onnx.js';
import { foldBatchNorms } from '../io/onnx-fold-bn.js';
import { Module } from './module.js';
import { Sequential, NamedSequential, Identity, Flatten, Permute } from './container.js';
import { Conv2d, ConvTranspose2d } from './conv.js';
import { BatchNorm1d, BatchNorm2d } from './norm.js';
import { ReLU, ReLU6, LeakyReLU, Sigmoid, Tanh, Softmax, SiLU, GELU, Hardswish, Hardsigmoid } from './activation.js';
import { Dropout, Dropout2d, StochasticDepth } from './dropout.js';
import { LayerNorm, LayerNorm2d, GroupNorm } from './layer_norm.js';
import { SqueezeExcitation } from './squeeze_excitation.js';
import { channelScale, cat } from '../tensor/channels.js';
import { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d } from './pool.js';
import { Linear } from './linear.js';
import { convOutputSize } from './shape.js';

/** An ONNX value and what our forward computes for it on the probe input. */
export interface OnnxValue {
  name: string;
  tensor: Tensor;
}

/** The model holds something ONNX cannot express exactly; the message names the layer. */
export class OnnxExportError extends CnnError {}

/** A composite module's export: the same composition as its forward, through ctx. */
export interface OnnxExportable {
  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue;
}

type OnnxOp<M extends Module> = (ctx: OnnxExporter, m: M, x: OnnxValue, name: string) => OnnxValue;
type ModuleType<M extends Module> = abstract new (...args: never[]) => M;

const ONNX_OPS = new Map<ModuleType<Module>, OnnxOp<Module>>();

/** One row of the table: the exact module type (not subclasses, whose forward may differ) → its nodes. */
function op<M extends Module>(type: ModuleType<M>, fn: OnnxOp<M>): void {
  ONNX_OPS.set(type, fn as OnnxOp<Module>);
}

const pairAttr = (p: readonly [number, number]): OnnxAttribute => ({ ints: [p[0], p[1]] });

export interface OnnxExportOptions {
  /** C×H×W of one input image. */
  inputShape: readonly [number, number, number];
  /** A fixed batch size or 'dynamic' (a symbolic first axis). */
  batch?: number | 'dynamic';
  opset?: number;
  /** Fold each BatchNorm that directly follows a convolution into its weights. */
  foldBn?: boolean;
  /** End with Softmax over the classes (output 'probabilities' instead of 'logits'). */
  softmax?: boolean;
  /** metadata_props of the model. */
  metadata?: Record<string, string>;
  producerVersion?: string;
  docString?: string;
}

export const MIN_OPSET = 13;
export const MAX_OPSET = 21;

export class OnnxExporter {
  readonly graph = new OnnxGraph('cnn');
  readonly opset: number;
  private readonly paths = new Map<Module, string>();
  private readonly scopes: string[] = [];
  private readonly constants = new Map<string, string>();

  constructor(root: Module, opset: number) {
    this.opset = opset;
    for (const [path, m] of root.namedModules()) if (!this.paths.has(m)) this.paths.set(m, path);
  }

  /** Exports m applied to x: its table row, else its toOnnx hook, else a refusal naming it. */
  module(m: Module, x: OnnxValue): OnnxValue {
    const name = this.paths.get(m) || m.typeName;
    const row = ONNX_OPS.get(m.constructor as ModuleType<Module>);
    const hook = (m as Partial<OnnxExportable>).toOnnx;
    if (!row && typeof hook !== 'function') this.refuse(name, m, 'no ONNX form is known for this layer');
    this.scopes.push(name);
    try {
      return row ? row(this, m, x, name) : hook!.call(m, this, x);
    } finally {
      this.scopes.pop();
    }
  }

  refuse(name: string, m: Module, why: string): never {
    throw new OnnxExportError(`cannot export layer '${name}' (${m.typeName}) to ONNX: ${why}`);
  }

  /** One node; `result` is what our forward gives for its output. */
  node(opType: string, name: string, inputs: string[], attributes: Record<string, OnnxAttribute>, result: Tensor): OnnxValue {
    return { name: this.graph.addNode(opType, name, inputs, attributes), tensor: result };
  }

  weight(name: string, t: Tensor): string {
    return this.graph.addFloats(name, t.shape, t.data);
  }

  /** A shared constant initializer (scalars for Clip, pads for Pad). */
  constant(values: readonly number[], kind: 'float' | 'int64', scalar = false): string {
    const key = `${kind}:${scalar}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = kind === 'float' ? this.graph.addFloats('const', scalar ? [] : [values.length], Float32Array.from(values)) : this.graph.addInt64s('const', values);
      this.constants.set(key, name);
    }
    return name;
  }

  /** An operator inside a composite's hook, named after the composite; `result` is what its forward computes. */
  apply(opType: string, inputs: readonly OnnxValue[], result: Tensor, attributes: Record<string, OnnxAttribute> = {}): OnnxValue {
    const scope = this.scopes.at(-1);
    const op = opType.toLowerCase();
    return this.node(opType, scope ? `${scope}.${op}` : op, inputs.map((v) => v.name), attributes, result);
  }

  /** a + b, as a composite's forward adds (residual connections). */
  add(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.apply('Add', [a, b], ops.add(a.tensor, b.tensor));
  }

  /** x scaled per channel by s ([N, C, 1, 1] or [C, 1, 1]): squeeze-and-excitation's gate, layer scale. */
  channelScale(x: OnnxValue, s: OnnxValue): OnnxValue {
    return this.apply('Mul', [x, s], channelScale(x.tensor, s.tensor));
  }

  /** Values joined along the channels (DenseNet). */
  concat(values: readonly OnnxValue[]): OnnxValue {
    return this.apply('Concat', values, cat(values.map((v) => v.tensor), 1), { axis: { int: 1 } });
  }

  /** A module's own parameter used in its forward (ConvNeXt's layer scale). */
  parameter(name: string, t: Tensor): OnnxValue {
    const scope = this.scopes.at(-1);
    return { name: this.weight(scope ? `${scope}.${name}` : name, t), tensor: t };
  }

}

// ---- containers and pass-through layers ----

const inOrder: OnnxOp<Module> = (ctx, m, x) => {
  for (const child of m.children()) x = ctx.module(child, x);
  return x;
};
op(Sequential, inOrder);
op(NamedSequential, inOrder);
const passThrough: OnnxOp<Module> = (_ctx, _m, x) => x;
op(Identity, passThrough);
// Dropout and stochastic depth are the identity in eval mode: removed from the graph.
op(Dropout, passThrough);
op(Dropout2d, passThrough);
op(StochasticDepth, passThrough);

op(SqueezeExcitation, (ctx, m, x) => {
  const scale = ctx.module(m.scaleActivation, ctx.module(m.fc2, ctx.module(m.activation, ctx.module(m.fc1, ctx.module(m.avgpool, x)))));
  return ctx.channelScale(x, scale);
});

op(Permute, (ctx, m, x, name) => ctx.node('Transpose', name, [x.name], { perm: { ints: m.dims } }, m.forward(x.tensor)));

op(Flatten, (ctx, m, x, name) => {
  const y = m.forward(x.tensor);
  const nd = x.tensor.ndim;
  const start = m.startDim < 0 ? nd + m.startDim : m.startDim;
  const end = m.endDim < 0 ? nd + m.endDim : m.endDim;
  if (start === 1 && end === nd - 1) return ctx.node('Flatten', name, [x.name], { axis: { int: 1 } }, y);
  // Reshape to the probe's shape with the batch axis copied (0) or, when merged, inferred (-1).
  const shape = y.shape.map((d, i) => (i === 0 ? (start === 0 ? -1 : 0) : d));
  return ctx.node('Reshape', name, [x.name, ctx.constant(shape, 'int64')], {}, y);
});

// ---- convolutions and normalization ----

const PAD_MODES: Record<string, string> = { reflect: 'reflect', replicate: 'edge', circular: 'wrap' };

op(Conv2d, (ctx, m, x, name) => {
  const y = m.forward(x.tensor);
  let input = x.name;
  let pads: readonly number[] = [m.pads[0], m.pads[2], m.pads[1], m.pads[3]];
  if (m.paddingMode !== 'zeros') {
    if (m.paddingMode === 'circular' && ctx.opset < 19) return ctx.refuse(name, m, `padding_mode='circular' needs Pad's 'wrap' mode (--opset 19 or later; this export is opset ${ctx.opset})`);
    const [t, b, l, r] = m.pads;
    input = ctx.graph.addNode('Pad', `${name}.pad`, [input, ctx.constant([0, 0, t, l, 0, 0, b, r], 'int64')], { mode: { string: PAD_MODES[m.paddingMode] } });
    pads = [0, 0, 0, 0];
  }
  const inputs = [input, ctx.weight(`${name}.weight`, m.weight)];
  if (m.bias) inputs.push(ctx.weight(`${name}.bias`, m.bias));
  return ctx.node('Conv', name, inputs, {
    kernel_shape: pairAttr(m.kernelSize), strides: pairAttr(m.stride), dilations: pairAttr(m.dilation), pads: { ints: pads }, group: { int: m.groups },
  }, y);
});

op(ConvTranspose2d, (ctx, m, x, name) => {
  const inputs = [x.name, ctx.weight(`${name}.weight`, m.weight)];
  if (m.bias) inputs.push(ctx.weight(`${name}.bias`, m.bias));
  return ctx.node('ConvTranspose', name, inputs, {
    kernel_shape: pairAttr(m.kernelSize), strides: pairAttr(m.stride), dilations: pairAttr(m.dilation),
    pads: { ints: [m.padding[0], m.padding[1], m.padding[0], m.padding[1]] }, output_padding: pairAttr(m.outputPadding), group: { int: m.groups },
  }, m.forward(x.tensor));
});

const batchNorm: OnnxOp<BatchNorm1d | BatchNorm2d> = (ctx, m, x, name) => {
  if (!m.runningMean || !m.runningVar) return ctx.refuse(name, m, 'without running statistics it normalizes by batch statistics even in eval mode');
  const y = m.forward(x.tensor);
  const c = m.numFeatures;
  const scale = m.weight ? ctx.weight(`${name}.weight`, m.weight) : ctx.graph.addFloats(`${name}.weight`, [c], new Float32Array(c).fill(1));
  const bias = m.bias ? ctx.weight(`${name}.bias`, m.bias) : ctx.graph.addFloats(`${name}.bias`, [c], new Float32Array(c));
  const inputs = [x.name, scale, bias, ctx.weight(`${name}.running_mean`, m.runningMean), ctx.weight(`${name}.running_var`, m.runningVar)];
  return ctx.node('BatchNormalization', name, inputs, { epsilon: { float: m.eps } }, y);
};
op(BatchNorm2d, batchNorm);
op(BatchNorm1d, batchNorm);

// ---- activations ----

op(ReLU, (ctx, m, x, name) => ctx.node('Relu', name, [x.name], {}, m.forward(x.tensor)));
op(ReLU6, (ctx, m, x, name) => ctx.node('Clip', name, [x.name, ctx.constant([0], 'float', true), ctx.constant([6], 'float', true)], {}, m.forward(x.tensor)));
op(LeakyReLU, (ctx, m, x, name) => ctx.node('LeakyRelu', name, [x.name], { alpha: { float: m.negativeSlope } }, m.forward(x.tensor)));
op(Sigmoid, (ctx, m, x, name) => ctx.node('Sigmoid', name, [x.name], {}, m.forward(x.tensor)));
op(Tanh, (ctx, m, x, name) => ctx.node('Tanh', name, [x.name], {}, m.forward(x.tensor)));
op(Softmax, (ctx, m, x, name) => ctx.node('Softmax', name, [x.name], { axis: { int: m.dim } }, m.forward(x.tensor)));
// PyTorch's hardsigmoid is relu6(x + 3)/6: ONNX's HardSigmoid with alpha 1/6 (its default is 0.2).
const HARD_SIGMOID = { alpha: { float: 1 / 6 }, beta: { float: 0.5 } };
op(Hardsigmoid, (ctx, m, x, name) => ctx.node('HardSigmoid', name, [x.name], HARD_SIGMOID, m.forward(x.tensor)));
// x · hardsigmoid(x): ONNX's HardSwish needs opset 14, this works from 13 on.
op(Hardswish, (ctx, m, x, name) => {
  const gate = ctx.graph.addNode('HardSigmoid', `${name}.gate`, [x.name], HARD_SIGMOID);
  return ctx.node('Mul', name, [x.name, gate], {}, m.forward(x.tensor));
});
op(SiLU, (ctx, m, x, name) => {
  const gate = ctx.graph.addNode('Sigmoid', `${name}.sigmoid`, [x.name]);
  return ctx.node('Mul', name, [x.name, gate], {}, m.forward(x.tensor));
});
op(GELU, (ctx, m, x, name) => {
  const c = (v: number) => ctx.constant([v], 'float', true);
  let inner: string;
  if (m.approximate === 'none') {
    // x·Φ(x) = x · ½(1 + erf(x/√2))
    inner = ctx.graph.addNode('Erf', `${name}.erf`, [ctx.graph.addNode('Mul', `${name}.scaled`, [x.name, c(Math.SQRT1_2)])]);
  } else {
    // ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
    const cube = ctx.graph.addNode('Mul', `${name}.cube`, [ctx.graph.addNode('Mul', `${name}.square`, [x.name, x.name]), x.name]);
    const poly = ctx.graph.addNode('Add', `${name}.poly`, [x.name, ctx.graph.addNode('Mul', `${name}.cubic`, [cube, c(0.044715)])]);
    inner = ctx.graph.addNode('Tanh', `${name}.tanh`, [ctx.graph.addNode('Mul', `${name}.scaled`, [poly, c(Math.sqrt(2 / Math.PI))])]);
  }
  const half = ctx.graph.addNode('Mul', `${name}.half`, [x.name, c(0.5)]);
  return ctx.node('Mul', name, [half, ctx.graph.addNode('Add', `${name}.one_plus`, [inner, c(1)])], {}, m.forward(x.tensor));
});

/** LayerNormalization's scale and bias: the module's, or ones and zeros. */
function layerNormAffine(ctx: OnnxExporter, m: LayerNorm, name: string): string[] {
  const size = m.normalizedShape.reduce((a, b) => a * b, 1);
  return [
    m.weight ? ctx.weight(`${name}.weight`, m.weight) : ctx.graph.addFloats(`${name}.weight`, m.normalizedShape, new Float32Array(size).fill(1)),
    m.bias ? ctx.weight(`${name}.bias`, m.bias) : ctx.graph.addFloats(`${name}.bias`, m.normalizedShape, new Float32Array(size)),
  ];
}

const LAYER_NORM_OPSET = 17;

op(LayerNorm, (ctx, m, x, name) => {
  if (ctx.opset < LAYER_NORM_OPSET) return ctx.refuse(name, m, `LayerNormalization needs --opset ${LAYER_NORM_OPSET} or later (this export is opset ${ctx.opset})`);
  return ctx.node('LayerNormalization', name, [x.name, ...layerNormAffine(ctx, m, name)], { axis: { int: -m.normalizedShape.length }, epsilon: { float: m.eps } }, m.forward(x.tensor));
});

// Over the channels at each pixel: NCHW → NHWC, LayerNormalization on the last axis, back.
op(LayerNorm2d, (ctx, m, x, name) => {
  if (ctx.opset < LAYER_NORM_OPSET) return ctx.refuse(name, m, `LayerNormalization needs --opset ${LAYER_NORM_OPSET} or later (this export is opset ${ctx.opset})`);
  const nhwc = ctx.graph.addNode('Transpose', `${name}.nhwc`, [x.name], { perm: { ints: [0, 2, 3, 1] } });
  const normed = ctx.graph.addNode('LayerNormalization', `${name}.norm`, [nhwc, ...layerNormAffine(ctx, m, name)], { axis: { int: -1 }, epsilon: { float: m.eps } });
  return ctx.node('Transpose', name, [normed], { perm: { ints: [0, 3, 1, 2] } }, m.forward(x.tensor));
});

// (N, C, ...) as (N, G, rest): InstanceNormalization normalizes each group; then the per-channel affine.
op(GroupNorm, (ctx, m, x, name) => {
  const g = m.numGroups;
  const grouped = ctx.graph.addNode('Reshape', `${name}.groups`, [x.name, ctx.constant([0, g, -1], 'int64')]);
  const unit = ctx.graph.addNode('InstanceNormalization', `${name}.norm`, [grouped, ctx.constant(Array(g).fill(1), 'float'), ctx.constant(Array(g).fill(0), 'float')], { epsilon: { float: m.eps } });
  const shape = x.tensor.shape.map((d, i) => (i === 0 ? 0 : d));
  let y = ctx.graph.addNode('Reshape', `${name}.back`, [unit, ctx.constant(shape, 'int64')]);
  const perChannel = [m.numChannels, ...Array(x.tensor.ndim - 2).fill(1)];
  const out = m.forward(x.tensor);
  if (!m.weight || !m.bias) return { name: y, tensor: out };
  y = ctx.graph.addNode('Mul', `${name}.scale`, [y, ctx.graph.addFloats(`${name}.weight`, perChannel, m.weight.data)]);
  return ctx.node('Add', name, [y, ctx.graph.addFloats(`${name}.bias`, perChannel, m.bias.data)], {}, out);
});

// ---- pooling ----

/**
 * The least end padding ≥ 0 with which a floor-mode window count is `out`. PyTorch's ceil mode
 * (and its rule that the last window starts inside the input) becomes explicit end padding, which
 * every runtime reads the same way.
 */
function endPad(size: number, begin: number, span: number, stride: number, out: number): number {
  return Math.max(0, (out - 1) * stride + span - size - begin);
}

op(MaxPool2d, (ctx, m, x, name) => {
  const y = m.forward(x.tensor);
  const [h, w] = x.tensor.shape.slice(-2);
  const [oh, ow] = y.shape.slice(-2);
  const span = (i: number) => m.dilation[i] * (m.kernelSize[i] - 1) + 1;
  // MaxPool ignores padded cells, so extra end padding changes nothing but the window count.
  const pads = [m.padding[0], m.padding[1], endPad(h, m.padding[0], span(0), m.stride[0], oh), endPad(w, m.padding[1], span(1), m.stride[1], ow)];
  const attrs = { kernel_shape: pairAttr(m.kernelSize), strides: pairAttr(m.stride), dilations: pairAttr(m.dilation) };
  if (pads[2] < m.kernelSize[0] && pads[3] < m.kernelSize[1]) return ctx.node('MaxPool', name, [x.name], { ...attrs, pads: { ints: pads } }, y);
  // A dilated window can need more end padding than the kernel size, which runtimes refuse as
  // pool padding: pad with −∞ first (never a maximum: PyTorch's windows all start in the input).
  const padded = ctx.graph.addNode('Pad', `${name}.pad`, [x.name, ctx.constant([0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]], 'int64'), ctx.constant([-Infinity], 'float', true)], { mode: { string: 'constant' } });
  return ctx.node('MaxPool', name, [padded], { ...attrs, pads: { ints: [0, 0, 0, 0] } }, y);
});

op(AvgPool2d, (ctx, m, x, name) => {
  if (m.divisorOverride !== undefined) return ctx.refuse(name, m, 'ONNX AveragePool has no divisor_override');
  const y = m.forward(x.tensor);
  const [h, w] = x.tensor.shape.slice(-2);
  const [oh, ow] = y.shape.slice(-2);
  const [ph, pw] = m.padding;
  const [kh, kw] = m.kernelSize;
  const attrs = { kernel_shape: pairAttr(m.kernelSize), strides: pairAttr(m.stride) };
  const endH = endPad(h, ph, kh, m.stride[0], oh);
  const endW = endPad(w, pw, kw, m.stride[1], ow);
  if (!m.countIncludePad || (endH === ph && endW === pw)) {
    // Windows never reach past the padding, or padding is not counted: ONNX divides as PyTorch does.
    return ctx.node('AveragePool', name, [x.name], { ...attrs, pads: { ints: [ph, pw, endH, endW] }, count_include_pad: { int: m.countIncludePad ? 1 : 0 } }, y);
  }
  // PyTorch counts the padding but not a ceil-mode window's overhang past it: pad with zeros
  // explicitly, then average over what lies inside the padded image.
  const padded = ctx.graph.addNode('Pad', `${name}.pad`, [x.name, ctx.constant([0, 0, ph, pw, 0, 0, ph, pw], 'int64')], { mode: { string: 'constant' } });
  const pads = [0, 0, endPad(h + 2 * ph, 0, kh, m.stride[0], oh), endPad(w + 2 * pw, 0, kw, m.stride[1], ow)];
  return ctx.node('AveragePool', name, [padded], { ...attrs, pads: { ints: pads }, count_include_pad: { int: 0 } }, y);
});

/** Rows i of the k×n matrix that averages PyTorch's adaptive window i: [⌊i·n/k⌋, ⌈(i+1)·n/k⌉). */
function adaptiveAverager(n: number, k: number, transposed: boolean): Float32Array {
  const a = new Float32Array(n * k);
  for (let i = 0; i < k; i++) {
    const start = Math.floor((i * n) / k);
    const end = Math.ceil(((i + 1) * n) / k);
    for (let j = start; j < end; j++) a[transposed ? j * k + i : i * n + j] = 1 / (end - start);
  }
  return a;
}

/** 'same' when the output equals the input, 'global' for 1×1, else the pooling window when it tiles the input, else null. */
function adaptiveTiling(x: Tensor, y: Tensor): 'same' | 'global' | [number, number] | null {
  const [h, w] = x.shape.slice(-2);
  const [oh, ow] = y.shape.slice(-2);
  if (oh === h && ow === w) return 'same';
  if (oh === 1 && ow === 1) return 'global';
  return h % oh === 0 && w % ow === 0 ? [h / oh, w / ow] : null;
}

op(AdaptiveAvgPool2d, (ctx, m, x, name) => {
  const y = m.forward(x.tensor);
  const tiling = adaptiveTiling(x.tensor, y);
  if (tiling === 'same') return { name: x.name, tensor: y };
  if (tiling === 'global') return ctx.node('GlobalAveragePool', name, [x.name], {}, y);
  if (tiling) return ctx.node('AveragePool', name, [x.name], { kernel_shape: pairAttr(tiling), strides: pairAttr(tiling) }, y);
  // Overlapping or uneven windows: the average is linear, Y = A_h · X · A_wᵀ.
  const [h, w] = x.tensor.shape.slice(-2);
  const [oh, ow] = y.shape.slice(-2);
  const right = ctx.graph.addFloats(`${name}.cols`, [w, ow], adaptiveAverager(w, ow, true));
  const left = ctx.graph.addFloats(`${name}.rows`, [oh, h], adaptiveAverager(h, oh, false));
  const cols = ctx.graph.addNode('MatMul', `${name}.by_cols`, [x.name, right]);
  return ctx.node('MatMul', name, [left, cols], {}, y);
});

op(AdaptiveMaxPool2d, (ctx, m, x, name) => {
  const y = m.forward(x.tensor);
  const tiling = adaptiveTiling(x.tensor, y);
  if (tiling === 'same') return { name: x.name, tensor: y };
  if (tiling === 'global') return ctx.node('GlobalMaxPool', name, [x.name], {}, y);
  if (!tiling) return ctx.refuse(name, m, `output ${formatShape(y.shape.slice(-2))} does not tile input ${formatShape(x.tensor.shape.slice(-2))}, and ONNX has no adaptive max pool`);
  return ctx.node('MaxPool', name, [x.name], { kernel_shape: pairAttr(tiling), strides: pairAttr(tiling) }, y);
});

// ---- linear ----

op(Linear, (ctx, m, x, name) => {
  const y = m.forward(x.tensor);
  if (x.tensor.ndim === 2) {
    const inputs = [x.name, ctx.weight(`${name}.weight`, m.weight)];
    if (m.bias) inputs.push(ctx.weight(`${name}.bias`, m.bias));
    return ctx.node('Gemm', name, inputs, { transB: { int: 1 } }, y);
  }
  const transposed = new Float32Array(m.weight.size);
  for (let o = 0; o < m.outFeatures; o++) for (let i = 0; i < m.inFeatures; i++) transposed[i * m.outFeatures + o] = m.weight.data[o * m.inFeatures + i];
  const product = ctx.graph.addNode('MatMul', `${name}.matmul`, [x.name, ctx.graph.addFloats(`${name}.weight`, [m.inFeatures, m.outFeatures], transposed)]);
  if (!m.bias) return { name: product, tensor: y };
  return ctx.node('Add', name, [product, ctx.weight(`${name}.bias`, m.bias)], {}, y);
});

// ---- the export ----

export interface OnnxExport {
  /** The ModelProto, as chunks for a file writer. */
  bytes: Uint8Array[];
  graph: OnnxGraph;
  /** How many BatchNorm layers were folded into convolutions (foldBn). */
  foldedBatchNorms: number;
  /** A deterministic probe input (batch 1) and our model's output for it. */
  probe: { input: Tensor; output: Tensor };
}

/** Deterministic values in [-1, 1) so the probe is the same on every run. */
function probeInput(shape: readonly number[]): Tensor {
  const t = Tensor.zeros(shape);
  let s = 0x9e3779b9;
  for (let i = 0; i < t.size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    t.data[i] = s / 2 ** 31 - 1;
  }
  return t;
}

export function exportOnnx(model: Module, o: OnnxExportOptions): OnnxExport {
  const opset = o.opset ?? 17;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) throw new OnnxExportError(`opset ${opset} is not supported (${MIN_OPSET} to ${MAX_OPSET})`);
  const batch = o.batch ?? 'dynamic';
  if (batch !== 'dynamic' && !(Number.isInteger(batch) && batch >= 1)) throw new OnnxExportError(`batch must be 'dynamic' or a positive integer, not ${String(batch)}`);
  const modes = [...model.modules()].map((m) => m.training);
  model.eval();
  try {
    return noGrad(() => {
      const input = probeInput([1, ...o.inputShape]);
      const ctx = new OnnxExporter(model, opset);
      const batchDim: OnnxDim = batch === 'dynamic' ? 'batch' : batch;
      const x = { name: ctx.graph.addInput('input', [batchDim, ...o.inputShape]), tensor: input };
      let y = ctx.module(model, x);
      const output = model.forward(input);
      const scale = Math.max(1e-6, ...output.data.map(Math.abs));
      if (y.tensor.shape.join() !== output.shape.join() || y.tensor.data.some((v, i) => !(Math.abs(v - output.data[i]) <= 1e-5 * scale))) {
        throw new OnnxExportError(`the export of ${model.typeName} does not reproduce its forward (an export hook disagrees with forward())`);
      }
      if (o.softmax) y = ctx.node('Softmax', 'softmax', [y.name], { axis: { int: -1 } }, y.tensor);
      // The graph's output gets a stable name users can rely on.
      const outName = o.softmax ? 'probabilities' : 'logits';
      const final = ctx.graph.nodes.length && ctx.graph.producerOf(y.name) && ctx.graph.usesOf(y.name) === 0 ? y.name : null;
      if (final) {
        const node = ctx.graph.producerOf(final)!;
        node.outputs = [ctx.graph.uniqueName(outName)];
        ctx.graph.addOutput(node.outputs[0], [batchDim, ...y.tensor.shape.slice(1)]);
      } else {
        ctx.graph.addOutput(ctx.graph.addNode('Identity', outName, [y.name]), [batchDim, ...y.tensor.shape.slice(1)]);
      }
      const foldedBatchNorms = o.foldBn ? foldBatchNorms(ctx.graph) : 0;
      const bytes = encodeOnnxModel(ctx.graph, { opset, producerVersion: o.producerVersion ?? '', docString: o.docString, metadata: o.metadata ?? {} });
      return { bytes, graph: ctx.graph, foldedBatchNorms, probe: { input, output } };
    });
  } finally {
    [...model.modules()].forEach((m, i) => { m.training = modes[i]; });
  }
}
