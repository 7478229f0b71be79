// Eval's Linear (→ ReLU/ReLU6) (→ Dropout in eval) runs as one native chain (src/nn/linear-chain.ts):
// the unfused layers' values bit for bit on every ISA and thread count, repacked when weights
// change or the ISA does, and never where a hook, a recorded gradient, another input shape or a
// training Dropout needs the layers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Sequential, Flatten, Identity } from '../../src/nn/container.js';
import { Linear } from '../../src/nn/linear.js';
import { ReLU, ReLU6 } from '../../src/nn/activation.js';
import { Dropout } from '../../src/nn/dropout.js';
import { Parameter } from '../../src/nn/parameter.js';
import { LeNet5 } from '../../src/models/lenet.js';
import { Tensor, noGrad } from '../../src/tensor/tensor.js';
import { native, setThreads } from '../../src/tensor/native.js';
import { countNativeCalls } from '../helpers/native-calls.js';
import { onEveryIsa } from '../helpers/every-isa.js';
import { SGD } from '../../src/optim/sgd.js';
import { sum } from '../../src/tensor/ops.js';
import { assertClose } from '../helpers/assert.js';
import { uniform_ } from '../../src/nn/init.js';
import { ModelEma } from '../../src/train/model-ema.js';

const EXACT = { atol: 0, rtol: 0 };

function rows(m: number, width: number, phase = 0): Tensor {
  const data = new Float32Array(m * width);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(0.37 * ((i * i) % 10007) + phase) * 2;
  return new Tensor(data, [m, width]);
}

/** LeNet's head, and an odd one with ReLU6 and no bias on its middle layer. */
function heads(): { name: string; seq: Sequential; width: number }[] {
  const odd = new Sequential(new Linear({ inFeatures: 37, outFeatures: 53 }), new ReLU6(), new Linear({ inFeatures: 53, outFeatures: 29, bias: false }),
    new Linear({ inFeatures: 29, outFeatures: 7 }), new ReLU());
  for (const p of odd.parameters()) p.data.forEach((v, i) => { p.data[i] = v * 8; });  // some products past ReLU6's 6
  return [{ name: 'lenet5 classifier', seq: new LeNet5().classifier, width: 256 }, { name: '37-53-29-7', seq: odd, width: 37 }];
}

/** Calls of linearChainForward while fn runs. */
const chainCalls = (fn: () => void): number => countNativeCalls('linearChainForward', fn)[1];

describe('the linear chain', () => {
  it('gives the layers\' own values bit for bit on every ISA, batch size and thread count, as one call', () => {
    // The packed weights of the ISA before are packed again.
    onEveryIsa((isa) => {
      for (const { name, seq, width } of heads()) {
        for (const m of [1, 5, 24, 64, 100]) {
          const x = rows(m, width);
          const unfused = seq.call(x).detach();
          for (const t of [1, 2, 3]) {
            setThreads(t);
            let fused = x;
            assert.equal(chainCalls(() => { fused = noGrad(() => seq.call(x)); }), 1, `${name} ran as one chain`);
            assertClose(fused, unfused, EXACT, `${name} on ${isa}, ${m} rows, ${t} threads`);
          }
        }
      }
    });
  });

  it('packs the weights again after an optimizer step, a replaced weight, loadStateDict, an initializer or an EMA update', () => {
    const seq = heads()[1].seq, x = rows(9, 37);
    const check = (label: string) => assertClose(noGrad(() => seq.call(x)), seq.call(x).detach(), EXACT, label);
    check('first call');
    const loss = sum(seq.call(x));
    loss.backward();
    new SGD(seq.parameters(), { lr: 0.5 }).step();
    check('after an optimizer step');
    const first = seq.at(0) as Linear;
    first.weight = new Parameter(rows(53, 37, 1));
    check('after a new weight tensor');
    seq.loadStateDict(new Map([...seq.stateDict()].map(([k, v]) => [k, new Tensor(v.data.map((e) => -e), v.shape)])));
    check('after loadStateDict');
    uniform_(first.weight, -3, 3);
    check('after an in-place initializer (nn.init)');
    const ema = new ModelEma(heads()[1].seq, 0.5, seq);
    check('before an EMA update');
    noGrad(() => ema.module.call(x));  // packs the EMA copy's weights
    // The model moves away from its copy (written directly: no generation change of its own).
    first.weight.data.forEach((v, i) => { first.weight.data[i] = -0.5 * v; });
    ema.update(seq);
    assertClose(noGrad(() => ema.module.call(x)), ema.module.call(x).detach(), EXACT, 'an EMA copy after its in-place update');
  });

  it('leaves the layers one by one where a hook, a gradient, another input shape or a lone Linear needs them', () => {
    const seq = heads()[0].seq, x = rows(4, 256);
    let seen: Tensor | undefined;
    const handle = seq.at(1).registerForwardHook((_m, _in, y) => { seen = y; });
    let hooked = x;
    assert.equal(chainCalls(() => { hooked = noGrad(() => seq.call(x)); }), 1, 'the layers after the hooked ReLU still chain');
    handle.remove();
    assert.deepEqual(seen?.shape, [4, 120]);
    assertClose(hooked, seq.call(x).detach(), EXACT, 'hooked');
    const w = seq.at(0).parameters()[0];
    assert.ok(w.requiresGrad);
    assert.equal(chainCalls(() => seq.call(x)), 0, 'a recorded gradient');
    assert.equal(chainCalls(() => noGrad(() => seq.call(new Tensor(rows(8, 256).data, [2, 4, 256])))), 0, 'a 3-D input');
    const lone = new Sequential(new Linear({ inFeatures: 5, outFeatures: 3 }), new Identity(), new Flatten());
    assert.equal(chainCalls(() => noGrad(() => lone.call(rows(2, 5)))), 0, 'a lone Linear');
  });

  it('runs through a Dropout in eval mode (the identity), not through one in training mode or with a hook', () => {
    // simplecnn's head: Linear → ReLU → Dropout → Linear.
    const seq = new Sequential(new Linear({ inFeatures: 48, outFeatures: 32 }), new ReLU(), new Dropout(0.5), new Linear({ inFeatures: 32, outFeatures: 10 }));
    const x = rows(6, 48);
    const unfused = noGrad(() => [...seq.eval().children()].reduce((t, m) => m.forward(t), x));
    let fused = x;
    assert.equal(chainCalls(() => { fused = noGrad(() => seq.call(x)); }), 1, 'one chain through the Dropout');
    assertClose(fused, unfused, EXACT, 'through an eval Dropout');
    const handle = seq.at(2).registerForwardHook(() => undefined);
    assert.equal(chainCalls(() => noGrad(() => seq.call(x))), 1, 'a hooked Dropout ends the chain (the Linear after it runs alone)');
    handle.remove();
    seq.train();
    let dropped = x;
    assert.equal(chainCalls(() => { dropped = noGrad(() => seq.call(x)); }), 1, 'a training Dropout ends the chain');
    assert.notDeepEqual(dropped.data, unfused.data, 'the training Dropout dropped');
  });

  it('the binding refuses layers that do not connect and packed buffers of another size', () => {
    const f = (n: number) => new Float32Array(n);
    const layer = (inFeatures: number, outFeatures: number) => ({ inFeatures, outFeatures, weight: f(inFeatures * outFeatures), bias: null,
      clamp: [-Infinity, Infinity] as [number, number], packed: f(native.linearChainPackedLength(outFeatures, inFeatures)), fresh: true });
    assert.throws(() => native.linearChainForward({ m: 2, layers: [layer(3, 4), layer(5, 2)] }, f(6), f(4), 1),
      /params\.layers\[1\]\.inFeatures is 5 but the layer before gives 4/);
    assert.throws(() => native.linearChainForward({ m: 2, layers: [{ ...layer(3, 4), packed: f(12) }] }, f(6), f(8), 1),
      /params\.layers\[0\]\.packed to hold/);
    assert.throws(() => native.linearChainForward({ m: 2, layers: [] }, f(6), f(8), 1), /1 to 64 layers/);
  });
});
