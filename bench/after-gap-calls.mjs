// Microseconds per native call of resnet18's (3×32×32, batch 128) layers whose regions lost the
// most to a late second thread (issue 13), each call after ~0.3 ms of serial work as in a training
// step (the threads have gone to sleep, so each region opens with a wake-up): the fc's backward and
// the 3×3 convolutions' forward and input gradient (the path each takes is printed). Both built
// checkouts' addons in one process, in turns; per call the best and the median of the rounds.
// Usage: node bench/after-gap-calls.mjs BASE NEW [threads=2] [calls=200]
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [base, next, threadsArg = '2', callsArg = '200'] = process.argv.slice(2);
const threads = Number(threadsArg), calls = Number(callsArg);
const natives = [];
for (const root of [base, next]) natives.push((await import(pathToFileURL(resolve(root, 'dist/src/tensor/native.js')).href)).native);
const random = (k) => Float32Array.from({ length: k }, () => Math.random() * 2 - 1);
// Serial work between calls, spinning (not sleeping) as JS would.
const gap = () => { const t = performance.now(); while (performance.now() - t < 0.3); };

const cases = [];
{
  const m = 128, inF = 512, outF = 10;
  const x = random(m * inF), w = random(outF * inF), dy = random(m * outF);
  const dx = new Float32Array(m * inF), dw = new Float32Array(outF * inF), db = new Float32Array(outF);
  cases.push({ name: 'fc backward 128x512->10', call: (n) => n.linearBackward({ m, inFeatures: inF, outFeatures: outF }, x, w, dy, dx, dw, db, threads) });
}
// [channels in, out, map side, stride]
for (const [cIn, cOut, side, stride] of [[64, 64, 8, 1], [64, 128, 8, 2], [128, 128, 4, 1], [128, 256, 4, 2]]) {
  const n = 128, out = side / stride;
  const p = { n, cIn, h: side, w: side, cOut, kh: 3, kw: 3, strideH: stride, strideW: stride, padT: 1, padB: 1, padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 1 };
  const x = random(n * cIn * side * side), w = random(cOut * cIn * 9), y = new Float32Array(n * cOut * out * out);
  const dy = random(y.length), dx = new Float32Array(x.length);
  const label = `${cIn}->${cOut} ${side}x${side} s${stride}`;
  cases.push({ name: `conv ${label} forward (${natives[1].convAlgo(p, 'forward', threads)})`, call: (nat) => nat.conv2dForward(p, x, w, null, y, threads) });
  cases.push({ name: `conv ${label} input grad (${natives[1].convAlgo(p, 'backwardInput', threads)})`, call: (nat) => nat.conv2dBackwardInput(p, dy, w, dx, threads) });
}

console.log(`${threads} threads, ${calls} calls each after 0.3 ms of serial work; µs per call, best / median: base, new`);
for (const c of cases) {
  const times = natives.map(() => []);
  for (let r = 0; r < calls; r++) {
    for (const i of r % 2 ? [1, 0] : [0, 1]) {
      gap();
      const t0 = performance.now();
      c.call(natives[i]);
      times[i].push((performance.now() - t0) * 1000);
    }
  }
  const stats = times.map((t) => { t.sort((a, b) => a - b); return [t[0], t[t.length >> 1]]; });
  console.log(`${c.name.padEnd(48)} ${stats.map(([b, m]) => `${b.toFixed(0).padStart(6)} / ${m.toFixed(0).padStart(6)}`).join('   ')}`);
}
