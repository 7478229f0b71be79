// DenseNet's eval layer on maps of at most four pixels as one native call (denseLayerSmallMaps):
// its new channels equal the layer run layer by layer with a gradient recorded (torchvision's
// order: BN, ReLU, 1×1 conv, BN, ReLU, k×k conv), on 1×1, 2×2, 1×2 and 2×1 maps, with ReLU6 and a
// bias on the second convolution; the channels around them are untouched; 1 and 2 threads give the
// same bits; weights changed in place are seen after weightsChanged(); it declines larger maps,
// training, a gradient to record and hooks.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { BatchNorm2d } from '../../src/nn/norm.js';
import { Conv2d } from '../../src/nn/conv.js';
import { ReLU, ReLU6 } from '../../src/nn/activation.js';
import { NamedSequential } from '../../src/nn/container.js';
import { Tensor, noGrad } from '../../src/tensor/tensor.js';
import { Generator } from '../../src/tensor/random.js';
import { getThreads, setThreads } from '../../src/tensor/native.js';
import { weightsChanged } from '../../src/tensor/weights-generation.js';
import { denseLayerSmallMaps, type DenseLayerParts } from '../../src/models/dense-layer-small-maps.js';
import { fillDeterministic } from '../helpers/deterministic-weights.js';
import { assertClose } from '../helpers/assert.js';

const previousThreads = getThreads();
after(() => setThreads(previousThreads));

function layer(channels: number, mid: number, growth: number, { relu6 = false, bias = false } = {}): DenseLayerParts & { all: NamedSequential } {
  const act = () => (relu6 ? new ReLU6() : new ReLU());
  const parts = {
    norm1: new BatchNorm2d({ numFeatures: channels }), relu1: act(),
    conv1: new Conv2d({ inChannels: channels, outChannels: mid, kernelSize: 1, bias: false }),
    norm2: new BatchNorm2d({ numFeatures: mid }), relu2: act(),
    conv2: new Conv2d({ inChannels: mid, outChannels: growth, kernelSize: 3, padding: 1, bias }),
  };
  const all = new NamedSequential(Object.entries(parts));
  fillDeterministic(all, 1.5);
  all.eval();
  return { ...parts, all };
}

/** Channels [0, c) of x as their own tensor. */
function leading(x: Tensor, c: number): Tensor {
  const [n, total, h, w] = x.shape, plane = h * w, out = new Float32Array(n * c * plane);
  for (let i = 0; i < n; i++) out.set(x.data.subarray(i * total * plane, (i * total + c) * plane), i * c * plane);
  return new Tensor(out, [n, c, h, w]);
}

/** x with channels [at, at + y's) replaced by y: what the layer should leave. */
function expected(x: Tensor, y: Tensor, at: number): Float32Array {
  const [n, total, h, w] = x.shape, g = y.shape[1], plane = h * w, out = x.data.slice();
  for (let i = 0; i < n; i++) out.set(y.data.subarray(i * g * plane, (i + 1) * g * plane), (i * total + at) * plane);
  return out;
}

function features(n: number, total: number, h: number, w: number, seed = 3): Tensor {
  return Tensor.randn([n, total, h, w], { generator: new Generator(seed) });
}

describe('denseLayerSmallMaps', () => {
  const shapes: [number, number][] = [[1, 1], [2, 2], [1, 2], [2, 1]];
  for (const [h, w] of shapes) {
    for (const options of [{}, { relu6: true, bias: true }]) {
      it(`equals the layers one by one on ${h}x${w} maps${'bias' in options ? ' (ReLU6, conv2 bias)' : ''}`, () => {
        const l = layer(21, 16, 6, options), x = features(19, 30, h, w);
        const want = expected(x, l.all.call(leading(x, 21)), 21);
        const bits: Float32Array[] = [];
        for (const threads of [1, 2]) {
          setThreads(threads);
          const got = new Tensor(x.data.slice(), x.shape);
          assert.equal(noGrad(() => denseLayerSmallMaps(l, got, 21)), true, 'taken');
          assertClose(got.data, want, { atol: 1e-5, rtol: 1e-4 }, `${threads} thread(s)`);
          bits.push(got.data);
        }
        assert.deepEqual(bits[1], bits[0], '2 threads give the 1-thread bits');
      });
    }
  }

  it('multiplies weights changed in place once weightsChanged() says so', () => {
    const l = layer(8, 12, 4), x = features(5, 12, 2, 2);
    noGrad(() => denseLayerSmallMaps(l, new Tensor(x.data.slice(), x.shape), 8));
    // conv2's alone: its dense map is rebuilt for the generation, not for a refold of conv1.
    l.conv2.weight.data.forEach((v, i, a) => { a[i] = -2 * v; });
    weightsChanged();
    const got = new Tensor(x.data.slice(), x.shape);
    noGrad(() => denseLayerSmallMaps(l, got, 8));
    assertClose(got.data, expected(x, l.all.call(leading(x, 8)), 8), { atol: 1e-5, rtol: 1e-4 }, 'after the change');
  });

  it('declines maps of more than four pixels, training, a gradient to record and hooks', () => {
    const l = layer(8, 12, 4);
    assert.equal(noGrad(() => denseLayerSmallMaps(l, features(2, 12, 3, 3), 8)), false, '3x3 maps');
    assert.equal(noGrad(() => denseLayerSmallMaps(l, features(2, 12, 1, 5), 8)), false, '1x5 maps');
    assert.equal(denseLayerSmallMaps(l, features(2, 12, 2, 2), 8), false, 'a gradient to record');
    const handle = l.conv2.registerForwardHook(() => undefined);
    assert.equal(noGrad(() => denseLayerSmallMaps(l, features(2, 12, 2, 2), 8)), false, 'a hook on conv2');
    handle.remove();
    l.all.train();
    assert.equal(noGrad(() => denseLayerSmallMaps(l, features(2, 12, 2, 2), 8)), false, 'training');
    l.all.eval();
    assert.equal(noGrad(() => denseLayerSmallMaps(l, features(2, 12, 2, 2), 8)), true, 'eval again');
  });
});
