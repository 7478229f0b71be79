// The layers of the newer torchvision models (SiLU, GELU, Hardswish, Hardsigmoid, LayerNorm,
// LayerNorm2d, GroupNorm, squeeze-and-excitation, stochastic depth, concatenation, permute,
// per-channel scale) against PyTorch (test/fixtures/gen.py, gen_model_layers) and against
// finite differences.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { Generator } from '../../src/tensor/random.js';
import { silu, gelu, hardswish, hardsigmoid } from '../../src/tensor/gated.js';
import { layerNorm, layerNorm2d, groupNorm } from '../../src/tensor/layer_norm.js';
import { channelScale, cat, leadingChannelsAffine, writeChannels, permute } from '../../src/tensor/channels.js';
import { stochasticDepth } from '../../src/tensor/dropout.js';
import { native } from '../../src/tensor/native.js';
import { Module } from '../../src/nn/module.js';
import { SiLU, GELU, Hardsigmoid } from '../../src/nn/activation.js';
import { LayerNorm, LayerNorm2d, GroupNorm } from '../../src/nn/layer_norm.js';
import { SqueezeExcitation } from '../../src/nn/squeeze_excitation.js';
import { StochasticDepth } from '../../src/nn/dropout.js';
import { Permute } from '../../src/nn/container.js';
import { loadFixture, type FixtureCase } from '../helpers/fixtures.js';
import { assertClose, FORWARD, GRADIENT } from '../helpers/assert.js';
import { gradcheck } from '../helpers/gradcheck.js';

interface OpCase {
  op?: string;
  kind?: string;
  shapes: number[][];
  [option: string]: unknown;
}

const cases = loadFixture<OpCase>('model_layers.safetensors');

function runOp(c: FixtureCase<OpCase>, xs: Tensor[]): Tensor {
  const p = c.params;
  switch (p.op) {
    case 'silu': return silu(xs[0]);
    case 'gelu': return gelu(xs[0], p.approximate as 'none' | 'tanh');
    case 'hardswish': return hardswish(xs[0]);
    case 'hardsigmoid': return hardsigmoid(xs[0]);
    case 'layer_norm': return layerNorm(xs[0], p.normalizedShape as number[], xs[1] ?? null, xs[2] ?? null, p.eps as number);
    case 'layer_norm2d': return layerNorm2d(xs[0], xs[1] ?? null, xs[2] ?? null, p.eps as number);
    case 'group_norm': return groupNorm(xs[0], p.numGroups as number, xs[1] ?? null, xs[2] ?? null, p.eps as number);
    case 'channel_scale': return channelScale(xs[0], xs[1]);
    case 'cat': return cat(xs, p.dim as number);
    case 'permute': return permute(xs[0], p.dims as number[]);
    default: throw new Error(`unknown op ${p.op}`);
  }
}

function buildModule(p: OpCase): Module {
  switch (p.kind) {
    case 'se': return new SqueezeExcitation({
      inputChannels: p.inputChannels as number, squeezeChannels: p.squeezeChannels as number,
      ...(p.activation === 'silu' ? { activation: () => new SiLU() } : {}),
      ...(p.scaleActivation === 'hardsigmoid' ? { scaleActivation: () => new Hardsigmoid() } : {}),
    });
    case 'layernorm': return new LayerNorm({ normalizedShape: p.normalizedShape as number[], eps: p.eps as number });
    case 'groupnorm': return new GroupNorm({ numGroups: p.numGroups as number, numChannels: p.numChannels as number, eps: p.eps as number });
    default: throw new Error(`unknown module kind ${p.kind}`);
  }
}

describe('model layers match PyTorch', () => {
  it('the fixture holds every op and module', () => {
    const ops = new Set(cases.map((c) => c.params.op ?? c.params.kind));
    assert.deepEqual([...ops].sort(), ['cat', 'channel_scale', 'gelu', 'group_norm', 'groupnorm', 'hardsigmoid', 'hardswish',
      'layer_norm', 'layer_norm2d', 'layernorm', 'permute', 'se', 'silu']);
  });

  for (const c of cases) {
    if (c.params.op) {
      it(c.name, () => {
        const xs = c.params.shapes.map((_, i) => c.t[`x${i}`].clone().requiresGrad_());
        const out = runOp(c, xs);
        assertClose(out, c.t.out, FORWARD, `${c.name} out`);
        out.backward(c.t.gout);
        xs.forEach((x, i) => assertClose(x.grad!, c.t[`gx${i}`], GRADIENT, `${c.name} gx${i}`));
      });
    } else {
      it(c.name, () => {
        const m = buildModule(c.params);
        const state = new Map(Object.entries(c.t).filter(([k]) => k.startsWith('state.')).map(([k, v]) => [k.slice(6), v]));
        m.loadStateDict(state);
        const x = c.t.x.clone().requiresGrad_();
        const y = m.call(x);
        assertClose(y, c.t.y, FORWARD, `${c.name} y`);
        y.backward(c.t.gy);
        assertClose(x.grad!, c.t.gx, GRADIENT, `${c.name} gx`);
        for (const [k, p] of m.namedParameters()) assertClose(p.grad!, c.t[`grad.${k}`], GRADIENT, `${c.name} grad.${k}`);
      });
    }
  }
});

describe('model layers against finite differences', () => {
  const g = new Generator(16);
  const randn = (shape: number[], scale = 1, shift = 0) => {
    const t = Tensor.randn(shape, { generator: g });
    for (let i = 0; i < t.size; i++) t.data[i] = t.data[i] * scale + shift;
    return t;
  };
  // Away from the kinks at ±3 by more than the finite-difference step.
  const offKinks = (xi: number, i: number, x: Tensor) => Math.abs(Math.abs(x.data[i]) - 3) < 0.05;

  it('gated activations', () => {
    const x = randn([3, 4, 5], 2.5);
    gradcheck((t) => silu(t), [x], 'silu');
    gradcheck((t) => gelu(t), [x], 'gelu');
    gradcheck((t) => gelu(t, 'tanh'), [x], 'gelu tanh');
    gradcheck((t) => hardswish(t), [x], 'hardswish', { skip: (xi, i) => offKinks(xi, i, x) });
    gradcheck((t) => hardsigmoid(t), [x], 'hardsigmoid', { skip: (xi, i) => offKinks(xi, i, x) });
  });

  it('layerNorm, layerNorm2d and groupNorm (input, weight and bias)', () => {
    gradcheck((x, w, b) => layerNorm(x, [6], w, b), [randn([4, 6], 2, 1), randn([6], 0.5, 1), randn([6])], 'layerNorm');
    gradcheck((x, w, b) => layerNorm2d(x, w, b), [randn([2, 5, 3, 3], 2, 1), randn([5], 0.5, 1), randn([5])], 'layerNorm2d');
    gradcheck((x, w, b) => groupNorm(x, 2, w, b), [randn([2, 4, 3, 3], 2, 1), randn([4], 0.5, 1), randn([4])], 'groupNorm');
  });

  it('channelScale, cat and permute', () => {
    gradcheck((x, s) => channelScale(x, s), [randn([2, 3, 4, 4]), randn([2, 3, 1, 1])], 'channelScale per sample');
    gradcheck((x, s) => channelScale(x, s), [randn([2, 3, 4, 4]), randn([3, 1, 1])], 'channelScale per channel');
    gradcheck((a, b) => cat([a, b], 1), [randn([2, 2, 3, 3]), randn([2, 3, 3, 3])], 'cat');
    gradcheck((x) => permute(x, [0, 2, 3, 1]), [randn([2, 3, 4, 5])], 'permute');
  });

  it('squeeze-and-excitation as a whole', () => {
    const se = new SqueezeExcitation({ inputChannels: 4, squeezeChannels: 2 });
    gradcheck((x) => se.call(x), [randn([2, 4, 3, 3])], 'SqueezeExcitation');
  });
});

describe('leadingChannelsAffine and writeChannels', () => {
  // Planes of 1, 4 and 25 floats (its per-row and per-plane loops), with and without a clamp, NaN
  // and infinities passing through as slice → x·scale + shift → clamp gives them.
  for (const [h, w] of [[1, 1], [2, 2], [5, 5]]) {
    it(`equal the slice, then the per-channel map and clamp, and a copy into a channel range, on ${h}×${w} planes`, () => {
      const g = new Generator(7);
      const x = Tensor.randn([3, 7, h, w], { generator: g });
      x.data[h * w] = NaN;
      x.data[2 * 7 * h * w + 3 * h * w] = Infinity;
      const channels = 5, inner = h * w, scale = new Float32Array(channels), shift = new Float32Array(channels);
      for (let c = 0; c < channels; c++) scale[c] = 0.5 + 0.25 * c - (c === 3 ? 2 : 0), shift[c] = 0.1 * c - 0.2;
      for (const clamp of [undefined, [0, Infinity], [0, 6]] as ([number, number] | undefined)[]) {
        const got = leadingChannelsAffine(x, channels, scale, shift, clamp);
        assert.deepEqual(got.shape, [3, channels, h, w]);
        got.data.forEach((v, i) => {
          const n = Math.floor(i / (channels * inner)), c = Math.floor(i / inner) % channels;
          const y = Math.fround(x.data[(n * 7 + c) * inner + (i % inner)] * scale[c] + shift[c]);
          const want = clamp ? (y < clamp[0] ? clamp[0] : y > clamp[1] ? clamp[1] : y) : y;
          const ok = Number.isFinite(want) ? Math.abs(v - want) <= 1e-6 * (1 + Math.abs(want)) : Object.is(v, want);
          assert.ok(ok, `clamp ${String(clamp)}: element ${i} is ${v}, expected ${want}`);
        });
      }
      const into = Tensor.zeros([3, 10, h, w]), part = Tensor.randn([3, 4, h, w], { generator: g });
      writeChannels(into, part, 5);
      assert.deepEqual([...into.data], [...cat([Tensor.zeros([3, 5, h, w]), part, Tensor.zeros([3, 1, h, w])], 1).data]);
    });
  }
});

describe('stochastic depth', () => {
  const x = Tensor.ones([64, 3, 2, 2]);

  it("'row' keeps or drops whole samples, survivors scaled by 1/(1-p)", () => {
    const y = stochasticDepth(x, 0.25, 'row', true, new Generator(3));
    let kept = 0;
    for (let n = 0; n < 64; n++) {
      const sample = y.data.subarray(n * 12, (n + 1) * 12);
      const v = sample[0];
      assert.ok(v === 0 || Math.abs(v - 1 / 0.75) < 1e-6, `sample ${n} value ${v}`);
      assert.ok(sample.every((e) => e === v), `sample ${n} is uniform`);
      if (v !== 0) kept++;
    }
    assert.ok(kept > 32 && kept < 64, `kept ${kept} of 64`);
  });

  it("'batch' keeps or drops everything at once; the gradient uses the same mask", () => {
    for (let seed = 0; seed < 8; seed++) {
      const xs = x.clone().requiresGrad_();
      const y = stochasticDepth(xs, 0.5, 'batch', true, new Generator(seed));
      assert.ok(y.data.every((e) => e === y.data[0]) && (y.data[0] === 0 || y.data[0] === 2));
      y.backward(Tensor.ones(y.shape));
      assert.deepEqual(xs.grad!.data, y.data);
    }
  });

  it('is the identity in eval mode and at p = 0; p = 1 drops everything', () => {
    const m = new StochasticDepth(0.5, 'row');
    m.eval();
    assert.equal(m.call(x), x);
    assert.equal(stochasticDepth(x, 0, 'row'), x);
    assert.ok(stochasticDepth(x, 1, 'row').data.every((e) => e === 0));
    assert.throws(() => new StochasticDepth(1.5), /between 0 and 1/);
    assert.throws(() => new StochasticDepth(0.1, 'col' as never), /'batch' or 'row'/);
  });
});

describe('model layers reject bad input as PyTorch does', () => {
  it('shapes and options', () => {
    assert.throws(() => layerNorm(Tensor.zeros([2, 5]), [4]), /normalized_shape=\[4\]/);
    assert.throws(() => groupNorm(Tensor.zeros([2, 6, 2]), 4), /divisible by num_groups/);
    assert.throws(() => new GroupNorm({ numGroups: 4, numChannels: 6 }), /divisible by num_groups/);
    assert.throws(() => new LayerNorm2d({ normalizedShape: 3 }).call(Tensor.zeros([1, 4, 2, 2])), /expected input \(N, 3, H, W\)/);
    assert.throws(() => channelScale(Tensor.zeros([2, 3, 4, 4]), Tensor.zeros([3, 2, 1])), /neither/);
    assert.throws(() => cat([Tensor.zeros([2, 3]), Tensor.zeros([3, 3])], 1), /Sizes of tensors must match/);
    assert.throws(() => cat([], 0), /non-empty/);
    assert.throws(() => leadingChannelsAffine(Tensor.zeros([2, 3, 2]), 4, new Float32Array(4), new Float32Array(4)), /4 leading channels of 3/);
    assert.throws(() => leadingChannelsAffine(Tensor.zeros([2, 3, 2]), 3, new Float32Array(2), new Float32Array(3)), /3 channels but 2 scales/);
    assert.throws(() => leadingChannelsAffine(Tensor.zeros([1, 2, 2]).requiresGrad_(), 2, new Float32Array(2), new Float32Array(2)), /records no gradient/);
    assert.throws(() => writeChannels(Tensor.zeros([2, 3, 2]), Tensor.zeros([2, 2, 2]), 2), /does not fit/);
    assert.throws(() => writeChannels(Tensor.zeros([2, 3, 2]), Tensor.zeros([2, 2, 3]), 0), /does not fit/);
    assert.throws(() => new Permute([0, 2, 1, 3]).call(Tensor.zeros([1, 2, 3, 4])), /not a swap of two trailing blocks/);
    assert.throws(() => new GELU('fast' as never), /none or tanh/);
  });

  it('the bindings check lengths, kinds and extents before touching memory', () => {
    const f = (n: number) => new Float32Array(n);
    assert.throws(() => native.gatedForward(5, f(4), f(4), 1), /kind/);
    assert.throws(() => native.gatedBackward(0, f(4), f(3), f(4), 1), /dy/);
    assert.throws(() => native.layerNormForward({ x: f(12), weight: null, bias: null, outer: 2, d: 3, inner: 2, eps: 1e-5, y: f(12), mean: f(3), rstd: f(4) }, 1), /mean/);
    assert.throws(() => native.layerNormForward({ x: f(12), weight: f(2), bias: null, outer: 2, d: 3, inner: 2, eps: 1e-5, y: f(12), mean: f(4), rstd: f(4) }, 1), /weight/);
    assert.throws(() => native.groupNormForward({ x: f(12), weight: null, bias: null, n: 1, c: 6, s: 2, groups: 4, eps: 1e-5, y: f(12), mean: f(4), rstd: f(4) }, 1), /groups/);
    assert.throws(() => native.channelScaleForward({ x: f(24), s: f(3), outer: 2, c: 3, inner: 4, perSample: true, y: f(24) }, 1), /s to hold 6/);
    assert.throws(() => native.copyRows({ srcOffset: 0, srcStride: 5, dstOffset: 6, dstStride: 5, block: 5, count: 2 }, f(10), f(10), 1), /dst/);
    assert.throws(() => native.copyRows({ srcOffset: 0, srcStride: 4, dstOffset: 0, dstStride: 10, block: 5, count: 2 }, f(10), f(20), 1), /srcStride/);
    assert.throws(() => native.transposeBatched(f(5), 1, 2, 3, f(6), 1), /x/);
    const affine = { srcOffset: 0, srcStride: 4, dstOffset: 2, dstStride: 6, channels: 2, inner: 2, count: 2 };
    assert.throws(() => native.copyRowsAffine(affine, f(8), f(11), f(2), f(2), 1), /dst/);
    assert.throws(() => native.copyRowsAffine(affine, f(8), f(12), f(3), f(2), 1), /scale/);
    assert.throws(() => native.copyRowsAffine({ ...affine, srcStride: 3 }, f(8), f(12), f(2), f(2), 1), /srcStride/);
  });
});
