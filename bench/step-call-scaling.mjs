// Where a training step loses time going from 1 to 2 threads (issue 13's scaling), per native call:
// bench train's step (3×32×32, Adam over flat storage), run at 1 and 2 threads in turns in one
// process, each call timed and its fastest time kept per thread count (on a shared machine the
// fastest is the one the neighbours left alone). Prints the fastest step at each count, the serial
// JavaScript between the calls, then per function, most lost first: calls a step, 1- and
// 2-thread ms, the excess (2-thread ms − half the 1-thread ms) and the speed-up; with KEYS=n also
// the n single calls that lose most (position in the step, function, ms). Needs `npm run build`.
//
//   node bench/step-call-scaling.mjs [model=resnet18] [batch=128] [steps=16] [top=12]
import { resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { trainingStep } from './training-step.mjs';

const [model = 'resnet18', batch = '128', steps = '16', top = '12'] = process.argv.slice(2);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { step } = await trainingStep(root, { threads: 2, model, batch: Number(batch) });
const nativeModule = await import(pathToFileURL(resolve(root, 'dist/src/tensor/native.js')).href);
const native = nativeModule.native;

// best[t][i]: the fastest time of the step's i-th native call at t threads; calls[t][i]: its
// function and, for a convolution or a BatchNorm, its shape. The two counts must make the same
// calls in the same order (a route that differs by thread count would shift every later position).
const best = { 1: [], 2: [] }, calls = { 1: [], 2: [] };
const shapeOf = (a) => a && typeof a === 'object' && ('cIn' in a ? ` ${a.n}x${a.cIn}x${a.h}x${a.w}->${a.cOut} ${a.kh}x${a.kw}/${a.strideH}` :
  Array.isArray(a.shape) ? ` ${a.shape.join('x')}` : '');
let index = 0, inNative = 0, recording = false;
for (const name of Object.keys(native)) {
  const f = native[name];
  // Size and route queries are not work (their time counts with the JavaScript's).
  if (typeof f !== 'function' || /Floats$|^convAlgo$|Threads$/.test(name)) continue;
  native[name] = function (...args) {
    const t0 = performance.now();
    const out = f.apply(this, args);
    const ms = performance.now() - t0;
    inNative += ms;
    const i = index++;
    if (recording) {
      const t = nativeModule.getThreads();
      calls[t][i] = { name, shape: shapeOf(args[0]) || '' };
      best[t][i] = Math.min(best[t][i] ?? Infinity, ms);
    }
    return out;
  };
}

const stepMs = { 1: Infinity, 2: Infinity }, jsMs = { 1: Infinity, 2: Infinity };
for (let s = 0; s < Number(steps) + 2; s++) {
  for (const t of s % 2 ? [1, 2] : [2, 1]) {
    nativeModule.setThreads(t);
    recording = s >= 2;  // the first two steps allocate and pack
    index = 0;
    inNative = 0;
    const t0 = performance.now();
    step();
    const ms = performance.now() - t0;
    if (!recording) continue;
    stepMs[t] = Math.min(stepMs[t], ms);
    jsMs[t] = Math.min(jsMs[t], ms - inNative);
  }
}

const differ = calls[1].findIndex((c, i) => c.name !== calls[2][i]?.name || c.shape !== calls[2][i]?.shape);
if (differ >= 0 || calls[1].length !== calls[2].length) {
  console.error(`step-call-scaling: the steps at 1 and 2 threads make different native calls (from call ${differ >= 0 ? differ : calls[1].length})`);
  process.exit(1);
}
const names = calls[1];
const sum = (a) => a.reduce((x, y) => x + (y ?? 0), 0);
const fmt = (x) => x.toFixed(2).padStart(8);
console.log(`${model} batch ${batch}: fastest step ${stepMs[1].toFixed(1)} ms at 1 thread, ${stepMs[2].toFixed(1)} at 2 ` +
  `(${(stepMs[1] / stepMs[2]).toFixed(2)}x); native calls' fastest summed ${sum(best[1]).toFixed(1)} and ${sum(best[2]).toFixed(1)} ` +
  `(${(sum(best[1]) / sum(best[2])).toFixed(2)}x); JavaScript between them ${jsMs[1].toFixed(1)} and ${jsMs[2].toFixed(1)} ms`);
const byName = new Map();
names.forEach(({ name }, i) => {
  const e = byName.get(name) ?? { calls: 0, one: 0, two: 0 };
  e.calls++;
  e.one += best[1][i];
  e.two += best[2][i];
  byName.set(name, e);
});
const excess = (one, two) => two - one / 2;
console.log(`${'function'.padEnd(30)} calls   1T ms   2T ms  excess  speed-up`);
for (const [name, e] of [...byName].sort((a, b) => excess(b[1].one, b[1].two) - excess(a[1].one, a[1].two)).slice(0, Number(top))) {
  console.log(`${name.padEnd(30)} ${String(e.calls).padStart(5)} ${fmt(e.one)} ${fmt(e.two)}${fmt(excess(e.one, e.two))}  ${(e.one / e.two).toFixed(2)}x`);
}
if (process.env.KEYS) {
  const order = names.map((_, i) => i).sort((a, b) => excess(best[1][b], best[2][b]) - excess(best[1][a], best[2][a]));
  for (const i of order.slice(0, Number(process.env.KEYS))) {
    console.log(`${String(i).padStart(4)} ${(names[i].name + names[i].shape).padEnd(48)} ${fmt(best[1][i])} ${fmt(best[2][i])}${fmt(excess(best[1][i], best[2][i]))}  ${(best[1][i] / best[2][i]).toFixed(2)}x`);
  }
}
