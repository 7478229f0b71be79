// Milliseconds per call of MobileNetV2's depthwise layers (and, set p32, its 1×1 layers; native conv2dForward / BackwardInput /
// BackwardWeight, 2 threads) in two built checkouts, e.g. main's and a branch's, one process per
// checkout per round, the checkouts taking turns (each build's own dist/ and build/; never copy
// build/ between checkouts). Each layer's figure is its best over the rounds of its best of 5
// timings; on a busy machine compare the ratios, and confirm a surprising one with more rounds.
// Usage: node bench/depthwise-layers.mjs BASE_CHECKOUT NEW_CHECKOUT [set: m32|t32|p32|m224|ops] [passes: f,i,w letters] [rounds]
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bestMs } from './best-ms.mjs';

const dw = (n, c, hw, s, k = 3) => ({ n, cIn: c, h: hw, w: hw, cOut: c, kh: k, kw: k, strideH: s, strideW: s,
  padT: k >> 1, padB: k >> 1, padL: k >> 1, padR: k >> 1, dilH: 1, dilW: 1, groups: c });
// MobileNetV2's 1×1 layers at 3×32×32 (expand and project, one of each shape), the ones with at
// least 2×2 maps (1×1 maps take the batched path).
const pw = (n, cIn, cOut, hw) => ({ n, cIn, h: hw, w: hw, cOut, kh: 1, kw: 1, strideH: 1, strideW: 1, padT: 0, padB: 0,
  padL: 0, padR: 0, dilH: 1, dilW: 1, groups: 1 });
const pointwise32 = (n) => [pw(n, 32, 16, 16), pw(n, 16, 96, 16), pw(n, 96, 24, 8), pw(n, 24, 144, 8), pw(n, 144, 24, 8),
  pw(n, 144, 32, 4), pw(n, 32, 192, 4), pw(n, 192, 32, 4), pw(n, 192, 64, 2), pw(n, 64, 384, 2), pw(n, 384, 64, 2),
  pw(n, 96, 576, 2), pw(n, 576, 96, 2)];
const mobilenet32 = (n) => [dw(n, 32, 16, 1), dw(n, 96, 16, 2), dw(n, 144, 8, 1), dw(n, 144, 8, 2), dw(n, 192, 4, 1),
  dw(n, 384, 2, 1), dw(n, 576, 2, 2), dw(n, 960, 1, 1)];
const SETS = {
  m32: mobilenet32(128),  // eval 3x32x32 b128
  t32: mobilenet32(64),   // train 3x32x32 b64
  p32: pointwise32(64),   // train 3x32x32 b64, the 1×1 layers
  m224: [dw(16, 32, 112, 1), dw(16, 96, 112, 2), dw(16, 144, 56, 1), dw(16, 144, 56, 2), dw(16, 192, 28, 1),
    dw(16, 192, 28, 2), dw(16, 384, 14, 1), dw(16, 576, 14, 1), dw(16, 576, 14, 2), dw(16, 960, 7, 1)],
  ops: [dw(8, 144, 56, 1), dw(8, 144, 56, 2), dw(8, 240, 28, 1, 5), dw(8, 96, 56, 1, 7)],  // cnn bench ops --kind depthwise
};

/** In a child process: one JSON line of ms per call for each layer and pass, from `root`'s build. */
async function measure(root, set, passes) {
  const { native } = await import(pathToFileURL(resolve(root, 'dist/src/tensor/native.js')).href);
  const out = {};
  for (const p of SETS[set]) {
    const oh = Math.floor((p.h + p.padT + p.padB - p.kh) / p.strideH) + 1;
    const random = (n) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
    const x = random(p.n * p.cIn * p.h * p.w), w = random(p.cOut * (p.cIn / p.groups) * p.kh * p.kw), b = new Float32Array(p.cOut);
    const dy = random(p.n * p.cOut * oh * oh), y = new Float32Array(dy.length), dx = new Float32Array(x.length), dW = new Float32Array(w.length);
    for (const pass of passes) {
      const call = { f: () => native.conv2dForward(p, x, w, b, y, 2), i: () => native.conv2dBackwardInput(p, dy, w, dx, 2),
        w: () => native.conv2dBackwardWeight(p, x, dy, dW, b, 2) }[pass];
      const best = bestMs(call, 30);
      out[`${pass} C${p.cIn}${p.groups > 1 ? '' : `->${p.cOut}`} ${p.h}x${p.w} k${p.kh} s${p.strideH} b${p.n}`] = best;
    }
  }
  console.log(JSON.stringify(out));
}

if (process.argv[2] === '--child') {
  await measure(process.argv[3], process.argv[4], process.argv[5].split(''));
} else {
  const [base, next, set = 'm32', passes = 'fiw', rounds = '2'] = process.argv.slice(2);
  if (!base || !next || !SETS[set] || !/^[fiw]+$/.test(passes)) {
    console.error('usage: node bench/depthwise-layers.mjs BASE_CHECKOUT NEW_CHECKOUT [m32|t32|p32|m224|ops] [passes from f, i, w] [rounds]');
    process.exit(2);
  }
  const best = [{}, {}];
  for (let r = 0; r < Number(rounds); r++) {
    [base, next].forEach((root, i) => {
      const child = spawnSync(process.execPath, [process.argv[1], '--child', root, set, passes], { encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`${root}: ${child.stderr}`);
      for (const [name, ms] of Object.entries(JSON.parse(child.stdout))) best[i][name] = Math.min(best[i][name] ?? Infinity, ms);
    });
  }
  for (const name of Object.keys(best[0])) {
    console.log(`${name.padEnd(30)} base ${best[0][name].toFixed(3).padStart(7)} ms  new ${best[1][name].toFixed(3).padStart(7)} ms  ${(best[0][name] / best[1][name]).toFixed(2)}x`);
  }
}
