// What --auto-augment costs the native augmenter: images/s of the --augment basic preset alone
// and with each policy, on synthetic CIFAR-10 (3×32×32) and Fashion-MNIST (1×28×28) images, one
// thread, batch 256. The configurations run in interleaved rounds and each reports its median,
// so a busy machine slows them alike; compare the ratios, not the absolute figures.
// Usage: npm run build && node bench/auto-augment-cost.mjs [rounds]
import { performance } from 'node:perf_hooks';
import { data } from '../dist/src/index.js';
import { Generator } from '../dist/src/tensor/random.js';

const rounds = Number(process.argv[2] ?? 7);
const batch = 256;
const policies = [null, 'trivial', 'rand-m9-mstd0.5', 'imagenet'];
const sets = [
  { name: 'cifar10', channels: 3, height: 32, width: 32 },
  { name: 'fashion-mnist', channels: 1, height: 28, width: 28, flipsKeepClass: true },
];

for (const set of sets) {
  const shape = { channels: set.channels, height: set.height, width: set.width };
  const stats = { mean: new Array(set.channels).fill(0.5), std: new Array(set.channels).fill(0.25) };
  const g = new Generator(1);
  const count = 4 * batch;
  const images = Uint8Array.from({ length: count * set.channels * set.height * set.width }, () => g.nextUint32() & 255);
  const plans = policies.map((p) => {
    const preset = data.presetTransform({ ...set, ...stats }, 'basic').transforms;
    const split = preset.findIndex((t) => t instanceof data.ToTensor);
    const auto = p ? [data.autoAugmentTransform(data.parseAutoAugment(p))] : [];
    return data.planAugment(new data.Compose([...preset.slice(0, split), ...auto, ...preset.slice(split)]), shape);
  });
  const times = policies.map(() => []);
  for (let r = 0; r < rounds + 1; r++) {
    plans.forEach((plan, k) => {
      const indices = Int32Array.from({ length: batch }, (_, i) => (r * batch + i) % count);
      const seeds = data.drawSeeds(g, batch);
      const t0 = performance.now();
      data.augmentBatch(plan, images, indices, seeds, 1);
      if (r > 0) times[k].push((performance.now() - t0) / 1000);  // round 0 warms up
    });
  }
  const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const base = batch / median(times[0]);
  policies.forEach((p, k) => {
    const ips = batch / median(times[k]);
    console.log(`${set.name} basic${p ? ` + ${p}` : ''}: ${Math.round(ips)} images/s (${(ips / base).toFixed(2)}× basic)`);
  });
}
