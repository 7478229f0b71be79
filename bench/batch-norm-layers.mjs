// Milliseconds per call of batch normalization in training (native batchNormForward, and
// batchNormBackward with the activation fused as the models run it) over the shapes of
// MobileNetV2 3×32×32 b64 (ReLU6), ResNet-18 3×32×32 b128 with the CIFAR stem and simplecnn b128 (ReLU), in two built checkouts
// (e.g. main's and a branch's) loaded into one process, each layer timed on one and then the
// other, in turns; a set's figure is the sum over its layers of each layer's best timing, and
// its ratio the geometric mean of two processes that load the builds in opposite orders. The
// backward figure is forward + backward (backward needs the forward's statistics). On a busy
// machine compare the ratios (an A/A run, the same build twice, gave 0.91-1.10x). The calls carry
// every field any version read (bias, the forward's output, its coefficients), so that checkouts
// from before and after backward stopped reading y back take the same call.
// Usage: node bench/batch-norm-layers.mjs BASE_CHECKOUT NEW_CHECKOUT [threads] [rounds]
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bestMs } from './best-ms.mjs';

// [channels, map side, how many such layers]
const SETS = {
  'mobilenet_v2 b64 relu6': { n: 64, activation: 'relu6', layers: [[32, 16, 2], [96, 16, 1], [96, 8, 1], [144, 8, 3], [144, 4, 1],
    [192, 4, 5], [192, 2, 1], [384, 2, 8], [576, 2, 5], [576, 1, 1], [960, 1, 6], [1280, 1, 1]] },
  'mobilenet_v2 b64 none': { n: 64, activation: undefined, layers: [[16, 16, 1], [24, 8, 2], [32, 4, 3], [64, 2, 4], [96, 2, 3],
    [160, 1, 3], [320, 1, 1]] },
  'resnet18 b128 relu': { n: 128, activation: 'relu', layers: [[64, 32, 3], [128, 16, 2], [256, 8, 2], [512, 4, 2]] },
  'resnet18 b128 none': { n: 128, activation: undefined, layers: [[64, 32, 2], [128, 16, 3], [256, 8, 3], [512, 4, 3]] },
  'simplecnn b128 relu': { n: 128, activation: 'relu', layers: [[32, 32, 2], [64, 16, 2], [128, 8, 1]] },
};

/** Both checkouts' addons in one process, each layer timed on one then the other in turn, `rounds` times. */
async function measure(roots, threads, rounds) {
  const natives = [];
  for (const root of roots) natives.push((await import(pathToFileURL(resolve(root, 'dist/src/tensor/native.js')).href)).native);
  const totals = natives.map(() => ({}));
  for (const [name, set] of Object.entries(SETS)) {
    for (const pass of ['forward', 'backward']) {
      const key = `${name} ${pass}`;
      for (const t of totals) t[key] = 0;
      for (const [c, side, count] of set.layers) {
        const shape = [set.n, c, side, side], len = set.n * c * side * side;
        const random = (k) => Float32Array.from({ length: k }, () => Math.random() * 4 - 1);
        const x = random(len), dy = random(len), y = new Float32Array(len), dx = new Float32Array(len);
        const weight = random(c).map((v) => v + 2), bias = random(c), runningMean = new Float32Array(c), runningVar = new Float32Array(c).fill(1);
        const saveMean = new Float32Array(c), saveInvstd = new Float32Array(c), dweight = new Float32Array(c), dbias = new Float32Array(c);
        const act = set.activation ? { activation: set.activation, coefficients: new Float32Array(2 * c) } : {};
        const calls = natives.map((native) => {
          const forward = () => native.batchNormForward({ x, shape, weight, bias, runningMean, runningVar, training: true, momentum: 0.1,
            eps: 1e-5, y, saveMean, saveInvstd, ...act }, threads);
          const backward = () => native.batchNormBackward({ x, dy, shape, weight, bias, saveMean, saveInvstd, training: true, dx, dweight,
            dbias, ...act, ...(set.activation ? { activationOutput: y } : {}) }, threads);
          return pass === 'forward' ? forward : () => { forward(); backward(); };
        });
        const best = natives.map(() => Infinity);
        for (let r = 0; r < rounds; r++) {
          for (const i of r % 2 ? [1, 0] : [0, 1]) best[i] = Math.min(best[i], bestMs(calls[i], 10));
        }
        best.forEach((ms, i) => { totals[i][key] += ms * count; });
      }
    }
  }
  return totals;
}

const [base, next, threads = '2', rounds = '5'] = process.argv.slice(2);
if (!base || !next) {
  console.error('usage: node bench/batch-norm-layers.mjs BASE_CHECKOUT NEW_CHECKOUT [threads] [rounds]');
  process.exit(2);
}
if (process.argv[6] === '--child') {
  console.log(JSON.stringify(await measure([base, next], Number(threads), Number(rounds))));
} else {
  // The addon loaded second measured up to 1.2x faster in an A/A run (the same build twice), so
  // each order is run in its own process and the ratio is the geometric mean of the two.
  const run = (roots) => {
    const child = spawnSync(process.execPath, [process.argv[1], ...roots, threads, rounds, '--child'], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(child.stderr);
    return JSON.parse(child.stdout);
  };
  const [a1, b1] = run([base, next]), [b2, a2] = run([next, base]);
  for (const name of Object.keys(a1)) {
    const ratio = Math.sqrt((a1[name] / b1[name]) * (a2[name] / b2[name]));
    const ms = (x, y) => `${Math.min(x, y).toFixed(3).padStart(7)} ms`;
    console.log(`${name.padEnd(34)} base ${ms(a1[name], a2[name])}  new ${ms(b1[name], b2[name])}  ${ratio.toFixed(2)}x`);
  }
}
