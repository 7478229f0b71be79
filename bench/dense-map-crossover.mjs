// Where the dense map of whole images (native/conv/dense_map.h) beats the other paths: milliseconds
// per call of each pass of the layers it fits, the dense map pinned against the best of the paths
// Auto can otherwise take (each pinned in turn: by-image, batched, grid, direct; the fastest is at
// least as fast as Auto's own pick), all taking turns in one process; each figure is its best over
// the rounds. 'eval' is the forward pass given the dense weights made once (eval's cache), 'forward'
// makes them per call (training). On a busy machine compare the ratios, and confirm a surprising
// one with more rounds.
// Usage: node bench/dense-map-crossover.mjs [set: zoo|small] [threads] [rounds]
import { native } from '../dist/src/tensor/native.js';
import { bestMs } from './best-ms.mjs';

const conv = (n, cIn, cOut, hw, stride = 1) => ({ n, cIn, h: hw, w: hw, cOut, kh: 3, kw: 3, strideH: stride, strideW: stride,
  padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 1 });
const SETS = {
  // ResNet's layers on maps no larger than the kernel at 3×32×32: resnet18 b128 (layer3 3×3 on 2×2,
  // layer4's stride-2 3×3 from 2×2 and its 3×3 on 1×1), resnet50 b64 (the same in its bottlenecks).
  zoo: [conv(128, 256, 256, 2), conv(128, 256, 512, 2, 2), conv(128, 512, 512, 1),
    conv(64, 256, 256, 2), conv(64, 512, 512, 2, 2), conv(64, 512, 512, 1)],
  // Small batches and channels, and 3×3 maps.
  small: [conv(32, 256, 256, 2), conv(16, 256, 256, 2), conv(8, 256, 256, 2), conv(4, 256, 256, 2), conv(1, 256, 256, 2), conv(128, 64, 64, 2), conv(128, 32, 32, 2),
    conv(16, 512, 512, 1), conv(1, 512, 512, 1), conv(128, 128, 128, 3), conv(64, 256, 256, 3), conv(128, 64, 64, 1)],
};
const OTHERS = ['by-image', 'batched', 'grid', 'direct'];

const [set = 'zoo', threadsArg = '2', roundsArg = '3'] = process.argv.slice(2);
const threads = Number(threadsArg), rounds = Number(roundsArg);
const random = (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5);

for (const p of SETS[set]) {
  const oh = Math.floor((p.h + 2 - 3) / p.strideH) + 1;
  const x = random(p.n * p.cIn * p.h * p.w), w = random(p.cOut * p.cIn * 9), b = random(p.cOut);
  const y = new Float32Array(p.n * p.cOut * oh * oh), dx = new Float32Array(x.length), dw = new Float32Array(w.length);
  const db = new Float32Array(p.cOut);
  native.setConvAlgo('dense-map');
  const wd = new Float32Array(native.conv2dDenseMapFloats(p, threads));
  native.conv2dDenseMapWeights(p, w, wd, threads);
  const passes = {
    eval: () => native.conv2dForward({ ...p, clamp: [0, Infinity], denseMap: wd }, x, w, b, y, threads),
    forward: () => native.conv2dForward(p, x, w, b, y, threads),
    dx: () => native.conv2dBackwardInput(p, y, w, dx, threads),
    dw: () => native.conv2dBackwardWeight(p, x, y, dw, db, threads),
  };
  const line = [];
  for (const [pass, fn] of Object.entries(passes)) {
    let dense = Infinity, other = Infinity, otherName = '';
    for (let r = 0; r < rounds; r++) {
      native.setConvAlgo('dense-map');
      dense = Math.min(dense, bestMs(fn, 60));
      for (const algo of OTHERS) {
        native.setConvAlgo(algo);
        const pathPass = pass === 'dx' ? 'backwardInput' : pass === 'dw' ? 'backwardWeight' : 'forward';
        if (native.convAlgo(p, pathPass, threads) !== algo && algo !== 'batched') continue;
        const ms = bestMs(fn, 60);
        if (ms < other) other = ms, otherName = algo;
      }
    }
    line.push(`${pass} ${dense.toFixed(2)}/${other.toFixed(2)} (${otherName}) ${(other / dense).toFixed(2)}x`);
  }
  native.setConvAlgo('auto');
  console.log(`n=${p.n} ${p.cIn}->${p.cOut} ${p.h}x${p.w} s${p.strideH} t${threads}: dense/other ms: ${line.join(', ')}`);
}
