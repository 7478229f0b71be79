// Where Winograd F(4×4, 3×3) beats the other forward paths: milliseconds per eval-style call
// (conv2dForward with ReLU) of 3×3 stride-1 layers, the path Auto takes without transformed
// weights against Winograd with them (pinned, weights transformed once as eval caches them), the
// two taking turns in one process; each figure is its best over the rounds. On a busy machine
// compare the ratios, and confirm a surprising one with more rounds. Set "train": training's
// passes, weights transformed in every call: the forward pass and the input gradient (as the
// forward pass of dy through the flipped weights), Auto's path with Winograd in training off
// against Winograd.
// Usage: node bench/winograd-crossover.mjs [set: zoo|grid|train] [threads] [rounds]
import { native } from '../dist/src/tensor/native.js';

const conv = (n, cIn, cOut, hw) => ({ n, cIn, h: hw, w: hw, cOut, kh: 3, kw: 3, strideH: 1, strideW: 1, padT: 1, padB: 1,
  padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 1 });
const SETS = {
  // The zoo's 3×3 stride-1 layers in the eval cases: resnet18 3×224×224 b16 and 3×32×32 b128
  // (resnet50's bottleneck 3×3 layers at 3×32×32 have the same shapes), simplecnn 3×32×32 b128.
  zoo: [conv(16, 64, 64, 56), conv(16, 128, 128, 28), conv(16, 256, 256, 14), conv(16, 512, 512, 7),
    conv(128, 64, 64, 32), conv(128, 128, 128, 16), conv(128, 256, 256, 8), conv(128, 512, 512, 4),
    conv(128, 3, 32, 32), conv(128, 32, 32, 32), conv(128, 32, 64, 16), conv(128, 64, 64, 16), conv(128, 64, 128, 8)],
  // Channels against map sizes, about the same flops per case.
  grid: [3, 8, 16, 32, 64, 128, 256, 512].flatMap((c) => [2, 3, 4, 7, 8, 14, 16, 28, 32, 56, 112, 224].map((hw) =>
    conv(Math.max(1, Math.min(128, Math.round(4e8 / (18 * c * c * hw * hw)))), c, c, hw))),
  // simplecnn and resnet18 3×32×32 training layers, the ImageNet-sized ones at batch 16, and the edges.
  train: [conv(128, 32, 32, 32), conv(128, 32, 64, 16), conv(128, 64, 64, 16), conv(128, 64, 128, 8), conv(128, 64, 64, 8),
    conv(64, 64, 64, 8), conv(64, 128, 128, 8), conv(64, 32, 32, 16), conv(128, 16, 16, 32), conv(64, 64, 64, 7),
    conv(128, 128, 128, 4), conv(128, 256, 256, 4), conv(16, 64, 64, 56), conv(16, 128, 128, 28), conv(16, 256, 256, 14),
    conv(16, 512, 512, 7)],
};

const [set = 'zoo', threadsArg = '2', roundsArg = '3'] = process.argv.slice(2);
const threads = Number(threadsArg), rounds = Number(roundsArg);
const random = (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5);

function best(fn, reps) {
  let min = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    min = Math.min(min, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return min;
}

// Training: Winograd with per-call weights against Auto's path with Winograd in training off.
function trainCase(p) {
  const x = random(p.n * p.cIn * p.h * p.w), w = random(p.cOut * p.cIn * 9).map((v) => v / Math.sqrt(9 * p.cIn));
  const y = new Float32Array(p.n * p.cOut * p.h * p.w), dx = new Float32Array(x.length);
  native.setWinogradTraining(false);
  const other = native.convAlgo(p, 'forward', threads), otherInput = native.convAlgo(p, 'backwardInput', threads);
  const forward = () => native.conv2dForward(p, x, w, null, y, threads), input = () => native.conv2dBackwardInput(p, y, w, dx, threads);
  const ms = { forward: Infinity, input: Infinity, winogradForward: Infinity, winogradInput: Infinity };
  for (let r = 0; r < rounds; r++) {
    ms.forward = Math.min(ms.forward, best(forward, 3));
    ms.input = Math.min(ms.input, best(input, 3));
    native.setConvAlgo('winograd');
    ms.winogradForward = Math.min(ms.winogradForward, best(forward, 3));
    ms.winogradInput = Math.min(ms.winogradInput, best(input, 3));
    native.setConvAlgo('auto');
  }
  native.setWinogradTraining(true);
  console.log(`n=${p.n} ${p.cIn}->${p.cOut} ${p.h}x${p.w}: forward ${other} ${ms.forward.toFixed(2)} ms, winograd ${ms.winogradForward.toFixed(2)} ms, ` +
    `ratio ${(ms.forward / ms.winogradForward).toFixed(2)}; input gradient ${otherInput} ${ms.input.toFixed(2)} ms, winograd ` +
    `${ms.winogradInput.toFixed(2)} ms, ratio ${(ms.input / ms.winogradInput).toFixed(2)}; Auto takes ${native.convAlgo(p, 'forward', threads)}`);
}

for (const p of SETS[set]) {
  if (set === 'train') {
    trainCase(p);
    continue;
  }
  const x = random(p.n * p.cIn * p.h * p.w), w = random(p.cOut * p.cIn * 9).map((v) => v / Math.sqrt(9 * p.cIn));
  const b = random(p.cOut), y = new Float32Array(p.n * p.cOut * p.h * p.w);
  native.setConvAlgo('winograd');
  const u = new Float32Array(native.conv2dWinogradFloats(p, threads));
  native.conv2dWinogradWeights(p, w, u, threads);
  native.setConvAlgo('auto');
  const other = native.convAlgo(p, 'forward', threads);
  const run = { [other]: () => native.conv2dForward({ ...p, clamp: [0, Infinity] }, x, w, b, y, threads),
    winograd: () => native.conv2dForward({ ...p, clamp: [0, Infinity], winograd: u }, x, w, b, y, threads) };
  const ms = { [other]: Infinity, winograd: Infinity };
  for (let r = 0; r < rounds; r++) {
    ms[other] = Math.min(ms[other], best(run[other], 3));
    native.setConvAlgo('winograd');
    ms.winograd = Math.min(ms.winograd, best(run.winograd, 3));
    native.setConvAlgo('auto');
  }
  console.log(`n=${p.n} ${p.cIn}->${p.cOut} ${p.h}x${p.w}: ${other} ${ms[other].toFixed(2)} ms, winograd ${ms.winograd.toFixed(2)} ms, ` +
    `ratio ${(ms[other] / ms.winograd).toFixed(2)}`);
}
