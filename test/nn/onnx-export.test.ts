// Layers one by one, exported to ONNX and run by onnxruntime against our forward: the four
// Conv2d padding modes (and 'same' with an even, dilated kernel), ceil-mode and padded pools,
// adaptive pools, transposed convolution, activations, layer and group norms, a head; BatchNorm folded or not; dynamic
// and fixed batch; and the refusals: a layer ONNX cannot express exactly is named, never exported.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  Module, Sequential, Conv2d, ConvTranspose2d, BatchNorm1d, BatchNorm2d, ReLU, ReLU6, LeakyReLU, Sigmoid, Tanh, Softmax,
  MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, Flatten, Linear, Dropout, type PaddingMode,
  SiLU, GELU, Hardswish, Hardsigmoid, LayerNorm, LayerNorm2d, GroupNorm, Permute, StochasticDepth, SqueezeExcitation, NamedSequential,
} from '../../src/nn/index.js';
import { exportOnnx, OnnxExportError, type OnnxExportOptions, type OnnxExporter, type OnnxValue } from '../../src/nn/onnx-export.js';
import { Tensor, noGrad } from '../../src/tensor/tensor.js';
import * as ops from '../../src/tensor/ops.js';
import { sigmoid, softmax } from '../../src/tensor/activation.js';
import { fillDeterministic } from '../helpers/deterministic-weights.js';
import { assertClose } from '../helpers/assert.js';
import { runOnnx } from '../helpers/onnxruntime.js';
import { readMessage, int, sub } from '../helpers/protobuf-reader.js';

const WITHIN = { atol: 1e-4, rtol: 0 };

function input(n: number, shape: readonly number[]): Tensor {
  const size = n * shape.reduce((a, b) => a * b, 1);
  return new Tensor(Float32Array.from({ length: size }, (_, i) => Math.sin(0.37 * ((i * i) % 10007) + 0.3)), [n, ...shape]);
}

/** Exports model (weights and BatchNorm statistics from the deterministic formula), runs 3 images through onnxruntime. */
async function roundTrip(model: Module, inputShape: [number, number, number], o: Partial<OnnxExportOptions> = {}) {
  fillDeterministic(model, 1.5);
  model.eval();
  const ex = exportOnnx(model, { inputShape, ...o });
  const x = input(3, inputShape);
  const want = noGrad(() => model.call(x));
  assertClose(await runOnnx(ex.bytes, x), want, WITHIN, model.toString().split('\n').slice(1, 3).join(' ').trim());
  return ex;
}

const opTypes = (ex: { graph: { nodes: { opType: string }[] } }) => ex.graph.nodes.map((n) => n.opType);

describe('ONNX export of each layer matches our forward in onnxruntime', () => {
  for (const paddingMode of ['zeros', 'reflect', 'replicate', 'circular'] as PaddingMode[]) {
    it(`Conv2d padding_mode=${paddingMode}, explicit and 'same' padding, with and without --fold-bn`, async () => {
      const conv = () => new Sequential(
        new Conv2d({ inChannels: 2, outChannels: 4, kernelSize: 3, padding: [1, 2], paddingMode }),
        new BatchNorm2d({ numFeatures: 4 }), new ReLU(),
        new Conv2d({ inChannels: 4, outChannels: 3, kernelSize: [4, 2], padding: 'same', dilation: [1, 2], paddingMode, bias: false }),
        new BatchNorm2d({ numFeatures: 3 }),
      );
      const plain = await roundTrip(conv(), [2, 7, 9], { opset: 19 });
      assert.equal(opTypes(plain).filter((t) => t === 'BatchNormalization').length, 2);
      assert.equal(opTypes(plain).filter((t) => t === 'Pad').length, paddingMode === 'zeros' ? 0 : 2);
      const folded = await roundTrip(conv(), [2, 7, 9], { opset: 19, foldBn: true });
      assert.ok(!opTypes(folded).includes('BatchNormalization'));
    });
  }

  it('--fold-bn leaves a BatchNorm whose convolution output is also read elsewhere', async () => {
    const ex = await roundTrip(new ConvPlusNormed(), [2, 5, 5], { foldBn: true });
    assert.equal(ex.foldedBatchNorms, 0);
    assert.deepEqual(opTypes(ex), ['Conv', 'BatchNormalization', 'Add']);
  });

  it('MaxPool2d and AvgPool2d with padding, dilation, ceil_mode and count_include_pad', async () => {
    for (const [k, s, p] of [[3, 2, 1], [2, 2, 0], [3, 2, 0], [3, 3, 1], [2, 3, 1]]) {
      for (const ceilMode of [false, true]) {
        await roundTrip(new Sequential(new MaxPool2d({ kernelSize: k, stride: s, padding: p, ceilMode })), [2, 8, 7]);
        await roundTrip(new Sequential(new MaxPool2d({ kernelSize: k, stride: s, padding: p, dilation: 2, ceilMode })), [2, 9, 10]);
        for (const countIncludePad of [false, true]) {
          await roundTrip(new Sequential(new AvgPool2d({ kernelSize: k, stride: s, padding: p, ceilMode, countIncludePad })), [2, 8, 7]);
        }
      }
    }
  });

  it('adaptive pools: identity, global, tiling windows, and overlapping average windows as two MatMuls', async () => {
    // The input's own size passes it through (the graph's output is then an Identity node).
    const cases: [number | [number, number], string[], string[] | null][] = [
      [[6, 4], ['Identity'], ['Identity']], [1, ['GlobalAveragePool'], ['GlobalMaxPool']], [[3, 2], ['AveragePool'], ['MaxPool']],
      [5, ['MatMul', 'MatMul'], null], [[7, 7], ['MatMul', 'MatMul'], null],
    ];
    for (const [size, avgOps, maxOps] of cases) {
      assert.deepEqual(opTypes(await roundTrip(new Sequential(new AdaptiveAvgPool2d(size)), [2, 6, 4])), avgOps);
      if (maxOps) assert.deepEqual(opTypes(await roundTrip(new Sequential(new AdaptiveMaxPool2d(size)), [2, 6, 4])), maxOps);
    }
  });

  it('ConvTranspose2d, activations, Dropout removed, Flatten, Linear (Gemm and MatMul), BatchNorm1d, Softmax', async () => {
    const ex = await roundTrip(new Sequential(
      new ConvTranspose2d({ inChannels: 2, outChannels: 4, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1, groups: 2 }),
      new LeakyReLU(0.2), new Dropout(0.5), new Sigmoid(), new Tanh(), new ReLU6(),
      new Conv2d({ inChannels: 4, outChannels: 2, kernelSize: 3, stride: 2 }),
      new Flatten(2, 3), new Linear({ inFeatures: 20, outFeatures: 6 }), new Flatten(),
      new Linear({ inFeatures: 12, outFeatures: 5 }), new BatchNorm1d({ numFeatures: 5 }), new Softmax(1),
    ), [2, 5, 6]);
    assert.deepEqual(opTypes(ex), ['ConvTranspose', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Clip', 'Conv', 'Reshape', 'MatMul', 'Add', 'Flatten', 'Gemm', 'BatchNormalization', 'Softmax']);
  });

  it('SiLU, GELU (erf and tanh), Hardswish, Hardsigmoid, squeeze-and-excitation, stochastic depth removed, at opsets 13 to 21', async () => {
    for (const opset of [13, 17, 21]) {
      const ex = await roundTrip(new NamedSequential([
        ['conv', new Conv2d({ inChannels: 3, outChannels: 8, kernelSize: 3, padding: 1 })],
        ['silu', new SiLU()], ['gelu', new GELU()], ['gelu_tanh', new GELU('tanh')], ['hardswish', new Hardswish()],
        ['se', new SqueezeExcitation({ inputChannels: 8, squeezeChannels: 2, activation: () => new SiLU(), scaleActivation: () => new Hardsigmoid() })],
        ['drop_path', new StochasticDepth(0.5)], ['gate', new Hardsigmoid()],
      ]), [3, 5, 4], { opset });
      assert.ok(!opTypes(ex).includes('Identity') && opTypes(ex).includes('Erf') && opTypes(ex).includes('HardSigmoid'));
    }
  });

  it('LayerNorm over trailing dims, LayerNorm2d over channels, Permute, GroupNorm with and without affine', async () => {
    await roundTrip(new Sequential(new LayerNorm({ normalizedShape: [3, 5, 4] })), [3, 5, 4]);
    await roundTrip(new Sequential(new Permute([0, 2, 3, 1]), new LayerNorm({ normalizedShape: 3, eps: 1e-6 }), new Linear({ inFeatures: 3, outFeatures: 4 }), new Permute([0, 3, 1, 2])), [3, 5, 4]);
    await roundTrip(new Sequential(new LayerNorm2d({ normalizedShape: 3, eps: 1e-6 })), [3, 5, 4]);
    await roundTrip(new Sequential(new GroupNorm({ numGroups: 2, numChannels: 6 })), [6, 3, 4]);
    await roundTrip(new Sequential(new GroupNorm({ numGroups: 3, numChannels: 6, affine: false, eps: 1e-3 })), [6, 3, 4]);
  });

  it('a fixed --batch is fixed; --softmax outputs probabilities', async () => {
    const model = new Sequential(new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 3 }), new Flatten(), new Linear({ inFeatures: 8, outFeatures: 3 }));
    const ex = await roundTrip(model, [1, 4, 4], { batch: 3 });
    assert.deepEqual(ex.graph.inputs[0].shape, [3, 1, 4, 4]);
    await assert.rejects(runOnnx(ex.bytes, input(2, [1, 4, 4])), /dimensions/i);
    const probs = exportOnnx(model, { inputShape: [1, 4, 4], softmax: true });
    assert.equal(probs.graph.outputs[0].name, 'probabilities');
    const x = input(2, [1, 4, 4]);
    assertClose(await runOnnx(probs.bytes, x), noGrad(() => softmax(model.call(x), -1)), WITHIN, 'probabilities');
  });

  it('writes the opset, the IR version that goes with it, and the metadata given', () => {
    const model = new Sequential(new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 3 }));
    const bytes = Buffer.concat(exportOnnx(model, { inputShape: [1, 4, 4], opset: 19, metadata: { classes: '["a","b"]' } }).bytes);
    const fields = readMessage(bytes);
    assert.equal(int(fields.get(1)?.[0]), 9n, 'IR version 9 for opset 19');
    assert.equal(int(sub(fields.get(8)?.[0]).get(2)?.[0]), 19n);
    assert.equal(fields.get(14)?.length, 1);
  });
});

/** conv(x) + bn(conv(x)): the convolution's output has two readers. */
class ConvPlusNormed extends Module {
  readonly conv = this.registerModule('conv', new Conv2d({ inChannels: 2, outChannels: 2, kernelSize: 3, padding: 1 }));
  readonly bn = this.registerModule('bn', new BatchNorm2d({ numFeatures: 2 }));
  forward(x: Tensor): Tensor {
    const c = this.conv.call(x);
    return ops.add(c, this.bn.call(c));
  }
  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    const c = ctx.module(this.conv, x);
    return ctx.add(c, ctx.module(this.bn, c));
  }
}

/** A layer with no ONNX row and no hook. */
class Swish extends Module {
  forward(x: Tensor): Tensor {
    return ops.mul(x, sigmoid(x));
  }
}

/** A known layer's subclass with another forward: exact types only, so it is refused. */
class DoubledReLU extends ReLU {
  override forward(x: Tensor): Tensor {
    return ops.mulScalar(super.forward(x), 2);
  }
}

/** A composite whose hook forgets the residual its forward adds. */
class WrongHook extends Module {
  readonly body = this.registerModule('body', new Conv2d({ inChannels: 2, outChannels: 2, kernelSize: 1 }));
  forward(x: Tensor): Tensor {
    return ops.add(x, this.body.call(x));
  }
  toOnnx(ctx: OnnxExporter, x: OnnxValue): OnnxValue {
    return ctx.module(this.body, x);
  }
}

describe('ONNX export refuses what it cannot express, naming the layer', () => {
  const refuses = (model: Module, inputShape: [number, number, number], message: RegExp, o: Partial<OnnxExportOptions> = {}) =>
    assert.throws(() => exportOnnx(model, { inputShape, ...o }), (err: unknown) => err instanceof OnnxExportError && message.test(err.message));

  it('an unknown module type, by its path and type', () => {
    const model = new Sequential(new Conv2d({ inChannels: 2, outChannels: 2, kernelSize: 1 }), new Sequential(new ReLU(), new Swish()));
    refuses(model, [2, 4, 4], /cannot export layer '1\.1' \(Swish\) to ONNX: no ONNX form/);
    refuses(new Sequential(new DoubledReLU()), [2, 4, 4], /'0' \(DoubledReLU\)/);
  });

  it('an adaptive max pool whose windows do not tile, circular padding before opset 19, batch-statistics BatchNorm, divisor_override', () => {
    refuses(new Sequential(new AdaptiveMaxPool2d(3)), [2, 6, 4], /'0' \(AdaptiveMaxPool2d\).*does not tile/);
    refuses(new Sequential(new Conv2d({ inChannels: 2, outChannels: 2, kernelSize: 3, padding: 1, paddingMode: 'circular' })), [2, 5, 5], /'0' \(Conv2d\).*--opset 19/);
    refuses(new Sequential(new BatchNorm2d({ numFeatures: 2, trackRunningStats: false })), [2, 3, 3], /'0' \(BatchNorm2d\).*batch statistics/);
    refuses(new Sequential(new AvgPool2d({ kernelSize: 2, divisorOverride: 3 })), [2, 4, 4], /'0' \(AvgPool2d\).*divisor_override/);
    refuses(new Sequential(new LayerNorm2d({ normalizedShape: 2 })), [2, 3, 3], /'0' \(LayerNorm2d\).*--opset 17/, { opset: 16 });
  });

  it('an export hook that does not reproduce forward()', () => {
    refuses(new WrongHook(), [2, 3, 3], /does not reproduce its forward/);
  });

  it('an opset or batch out of range', () => {
    const model = new Sequential(new ReLU());
    refuses(model, [1, 2, 2], /opset 12 is not supported/, { opset: 12 });
    refuses(model, [1, 2, 2], /batch must be/, { batch: 0 });
  });
});
