// Which path is fastest for a 3×3 stride-1 layer's input gradient: milliseconds per
// conv2dBackwardInput call under Auto and under each path forced (CNN_CONV_ALGO's names), the
// paths taking turns in one process, each keeping its best over the rounds; a forced path that
// does not fit falls back to im2col ("batched"), shown in brackets. Every path's result is
// checked against Auto's first.
// Usage: node bench/input-gradient-paths.mjs [threads] [rounds] [N,Cin,Cout,HW ...]
import { native } from '../dist/src/tensor/native.js';

const conv = ([n, cIn, cOut, hw]) => ({ n, cIn, h: hw, w: hw, cOut, kh: 3, kw: 3, strideH: 1, strideW: 1, padT: 1, padB: 1,
  padL: 1, padR: 1, dilH: 1, dilW: 1, groups: 1 });
// resnet18's and simplecnn's training layers at 3×32×32 b128, DenseNet's 128 → 32, the ImageNet-sized ones at b16.
const DEFAULT = ['128,64,64,8', '128,64,128,8', '128,128,128,4', '64,256,256,4', '128,256,256,8', '128,32,16,8',
  '128,32,32,32', '128,64,64,16', '16,64,64,56', '16,256,256,14', '16,512,512,7'];
const [threadsArg = '2', roundsArg = '5', ...shapes] = process.argv.slice(2);
const threads = Number(threadsArg), rounds = Number(roundsArg);
const ALGOS = ['auto', 'lanes', 'winograd', 'direct', 'grid', 'by-image', 'batched'];

const fill = (n, f) => { const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = f(i); return a; };
console.log(`threads ${threads}, best of ${rounds} rounds, ms per call`);
for (const shape of shapes.length ? shapes : DEFAULT) {
  const p = conv(shape.split(',').map(Number));
  const dy = fill(p.n * p.cOut * p.h * p.w, (i) => Math.sin(i)), w = fill(p.cOut * p.cIn * 9, (i) => Math.cos(i) * 0.1);
  const dx = new Float32Array(p.n * p.cIn * p.h * p.w), reference = new Float32Array(dx.length);
  const best = new Map();
  for (let r = 0; r < rounds; r++)
    for (const algo of ALGOS) {
      native.setConvAlgo(algo);
      const took = native.convAlgo(p, 'backwardInput', threads);
      const start = performance.now();
      native.conv2dBackwardInput({ ...p }, dy, w, dx, threads);
      const ms = performance.now() - start;
      const key = algo === took ? algo : `${algo} (${took})`;
      best.set(key, Math.min(best.get(key) ?? Infinity, ms));
      if (r > 0) continue;
      if (algo === 'auto') reference.set(dx);
      let err = 0;
      for (let i = 0; i < dx.length; i++) err = Math.max(err, Math.abs(dx[i] - reference[i]));
      if (err > 1e-3 * Math.sqrt(p.cOut * 9)) throw new Error(`${shape} ${algo}: differs from auto by ${err}`);
    }
  native.setConvAlgo('auto');
  console.log(`${shape.padEnd(16)} ${[...best].map(([k, v]) => `${k} ${v.toFixed(3)}`).join('  ')}`);
}
