// Convolutions on maps no larger than the kernel as one dense GEMM over whole images
// (native/conv/dense_map.h) against the pinned im2col path (CNN_CONV_ALGO=batched): ResNet's layer
// shapes at 3×32×32 in every pass, one training step of resnet18 and resnet50 (loss and every
// gradient), and eval's logits with the dense weights made once per weight version and reused.
// (build/Release/kernel_tests checks the kernels against conv2d_ref on every ISA.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { noGrad, shapeSize, Tensor } from '../../src/tensor/tensor.js';
import { Conv2d } from '../../src/nn/conv.js';
import { native, type ConvAlgoName, type ConvParams, type ConvPass } from '../../src/tensor/native.js';
import { convOutputShape } from '../../src/tensor/ops.js';
import { crossEntropy } from '../../src/tensor/loss.js';
import { SGD } from '../../src/optim/sgd.js';
import { Generator } from '../../src/tensor/random.js';
import { denseMapBuildCount } from '../../src/tensor/dense-map-weights.js';
import { sineImages, deterministicModel } from '../helpers/zoo-inputs.js';
import { assertClose } from '../helpers/assert.js';

/** Two float32 paths that sum in different orders (the fusion tests' bound for outputs; gradients through a deep network's BatchNorms a little looser). */
const OUTPUTS = { atol: 1e-4, rtol: 1e-4 };
const GRADIENTS = { atol: 2e-4, rtol: 1e-3 };

function pinned<T>(algo: ConvAlgoName, fn: () => T): T {
  native.setConvAlgo(algo);
  try {
    return fn();
  } finally {
    native.setConvAlgo('auto');
  }
}

const g = new Generator(13);
const rand = (n: number) => Float32Array.from({ length: n }, () => g.nextUint32() / 2 ** 31 - 1);
const conv3x3 = (n: number, cIn: number, cOut: number, hw: number, stride: number): ConvParams => ({ n, cIn, h: hw, w: hw, cOut,
  kh: 3, kw: 3, strideH: stride, strideW: stride, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 1 });

describe('ResNet\'s layers on 2×2 and 1×1 maps take the dense map and match the im2col path', () => {
  // resnet18's layer3 (and resnet50's bottleneck 3×3 there), layer4's first 3×3 (256 or 512 channels
  // in, stride 2 from 2×2), layer4's 3×3 on 1×1 maps; 48 images, the least the training rule takes on 2×2.
  for (const p of [conv3x3(48, 256, 256, 2, 1), conv3x3(48, 256, 512, 2, 2), conv3x3(48, 512, 512, 2, 2), conv3x3(48, 512, 512, 1, 1)]) {
    it(`${p.cIn}->${p.cOut} ${p.h}x${p.w} stride ${p.strideH}`, () => {
      const passes: ConvPass[] = ['forward', 'backwardInput', 'backwardWeight'];
      assert.deepEqual(passes.map((pass) => native.convAlgo(p, pass, 2)), ['dense-map', 'dense-map', 'dense-map']);
      assert.ok(passes.every((pass) => pinned('batched', () => native.convAlgo(p, pass, 2)) === 'batched'));
      const xs = p.n * p.cIn * p.h * p.w, ws = p.cOut * p.cIn * 9, ys = shapeSize(convOutputShape(p));
      const x = rand(xs), w = rand(ws).map((v) => v / Math.sqrt(9 * p.cIn)), b = rand(p.cOut), dy = rand(ys), residual = rand(ys);
      const run = () => {
        const y = new Float32Array(ys), yc = new Float32Array(ys), dx = new Float32Array(xs), dw = new Float32Array(ws), db = new Float32Array(p.cOut);
        native.conv2dForward(p, x, w, b, y, 2);
        native.conv2dForward({ ...p, clamp: [0, Infinity], residual }, x, w, b, yc, 2);
        native.conv2dBackwardInput(p, dy, w, dx, 2);
        native.conv2dBackwardWeight(p, x, dy, dw, db, 2);
        return { y, yc, dx, dw, db };
      };
      const dense = run(), im2col = pinned('batched', run);
      for (const key of ['y', 'yc', 'dx', 'dw', 'db'] as const) assertClose(dense[key], im2col[key], OUTPUTS, key);
    });
  }
});

describe('one training step equals the pinned im2col path\'s: loss and every gradient', () => {
  // 48 images: resnet18's layer3 and resnet50's bottleneck 3×3 layers on 2×2 maps take the dense map in training.
  for (const name of ['resnet18', 'resnet50']) {
    it(name, () => {
      const n = 48, x = sineImages(n), target = Array.from({ length: n }, (_, i) => (i * 7) % 10);
      const step = () => {
        const m = deterministicModel(name).train();
        const loss = crossEntropy(m.call(x), target);
        loss.backward();
        return { loss: loss.data[0], grads: m.parameters().map((p) => Float32Array.from(p.grad!.data)) };
      };
      const before = denseMapBuildCount();
      // Pinned, so that the dense map is all that differs from the im2col path: Auto's other
      // choices (Winograd on layer1's 8×8 maps, the channels-in-lanes forward loops) round
      // differently, enough to flip a ReLU here and there.
      const [dense, im2col] = [pinned('dense-map', step), pinned('batched', step)];
      assert.equal(denseMapBuildCount(), before, 'training builds its dense weights per call, not into eval\'s cache');
      assertClose([dense.loss], [im2col.loss], OUTPUTS, `${name} loss`);
      assert.equal(dense.grads.length, im2col.grads.length);
      dense.grads.forEach((grad, i) => assertClose(grad, im2col.grads[i], GRADIENTS, `${name} gradient ${i}`));
    });
  }
});

it('eval takes the dense map with weights made once per weight version, and gives the pinned path\'s logits', () => {
  const m = deterministicModel('resnet18').eval(), x = sineImages(8);
  const before = denseMapBuildCount();
  const got = noGrad(() => m.call(x));
  const built = denseMapBuildCount() - before;
  // layer3's 3×3 on 2×2 maps (3 of them; 8 images reach eval's rule), layer4's stride-2 3×3 and its three 3×3 on 1×1 maps.
  assert.equal(built, 7, 'dense weights built for layer3\'s and layer4\'s 3×3 layers');
  assertClose(got, pinned('batched', () => noGrad(() => m.call(x))), OUTPUTS, 'logits');
  noGrad(() => m.call(sineImages(8, 32, 1)));
  assert.equal(denseMapBuildCount() - before, built, 'a second eval reused them');
  const optimizer = new SGD(m.parameters(), { lr: 0.05 });
  m.train();
  crossEntropy(m.call(x), [1, 7, 0, 2, 4, 6, 8, 3]).backward();
  optimizer.step();
  m.eval();
  const after = noGrad(() => m.call(x));
  assert.equal(denseMapBuildCount() - before, 2 * built, 'the step\'s new weights were made dense again');
  assertClose(after, pinned('batched', () => noGrad(() => m.call(x))), OUTPUTS, 'logits after a step');
  pinned('batched', () => {
    noGrad(() => m.call(x));
    assert.equal(denseMapBuildCount() - before, 2 * built, 'the pinned path builds none');
  });
});

it('eval rebuilds the dense weights for a map of another shape with the same number of pixels (1×2, then 2×1)', () => {
  const conv = new Conv2d({ inChannels: 16, outChannels: 16, kernelSize: 3, padding: 1 }).eval();
  for (const shape of [[8, 16, 1, 2], [8, 16, 2, 1]]) {
    const x = Tensor.randn(shape, { generator: new Generator(5) });
    const before = denseMapBuildCount();
    const got = noGrad(() => conv.call(x));
    assert.equal(denseMapBuildCount() - before, 1, `the dense map taken on ${shape.join('x')}`);
    assertClose(got, conv.call(x).detach(), OUTPUTS, `${shape.join('x')} maps`);
  }
});
