// MobileNetV2 eval with its inverted residual blocks fused (one native call per block) and layer
// by layer (each Conv2d → BatchNorm2d → ReLU6 folded on its own), in one process on one build,
// the two taking turns: the whole-block fusion's own share of `cnn bench eval`. Prints each
// round's median ms per batch and each side's best images/s; on a busy machine compare rounds.
// Usage: node bench/inverted-residual-fusion.mjs [side: 32] [batch: 128] [rounds: 3] [steps: 7]  (CNN_THREADS sets threads)
const dist = (path) => import(new URL(`../dist/src/${path}`, import.meta.url).href);
const { buildModel } = await dist('models/registry.js');
const { setInvertedResidualFusion } = await dist('nn/inverted-residual-fusion.js');
const { Tensor, noGrad } = await dist('tensor/tensor.js');
const { StepBuffers } = await dist('tensor/storage.js');
const { Generator } = await dist('tensor/random.js');

const [side, batch, rounds, steps] = [32, 128, 3, 7].map((d, i) => Number(process.argv[2 + i] ?? d));
const model = buildModel('mobilenet_v2', { numClasses: 10, inChannels: 3 }).eval();
const x = Tensor.randn([batch, 3, side, side], { generator: new Generator(0) });
const buffers = new StepBuffers();
const step = () => noGrad(() => buffers.step(() => { model.call(x); }));
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
const ms = { layers: [], fused: [] };
for (let r = 0; r < rounds; r++) {
  for (const mode of ['layers', 'fused']) {
    setInvertedResidualFusion(mode === 'fused');
    step(), step();  // warm-up: folded weights, buffers
    const t = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      step();
      t.push(performance.now() - t0);
    }
    ms[mode].push(median(t));
  }
}
for (const mode of ['layers', 'fused']) {
  console.log(`mobilenet_v2 3x${side}x${side} b${batch} ${mode}: ms per batch by round ${ms[mode].map((v) => v.toFixed(1)).join(' ')}; best ${(batch * 1000 / Math.min(...ms[mode])).toFixed(0)} img/s`);
}
