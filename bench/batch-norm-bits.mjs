// Whether two built checkouts' batch normalization kernels agree bit for bit: batchNormForward
// and batchNormBackward of each on the same random inputs (MobileNetV2's shapes at 3×32×32 b64,
// ResNet's 32×32 b128, odd ones), none/ReLU/ReLU6, with and without a residual, training and
// eval, 1 and 2 threads; every output array (y, saved and running statistics, coefficients, dx,
// dweight, dbias, dresidual) compared. For changes meant to keep the arithmetic (loop order,
// prefetching, blocking); run it per ISA with CNN_ISA=avx512/avx2/scalar.
// Usage: node bench/batch-norm-bits.mjs BASE_CHECKOUT NEW_CHECKOUT   (exit 1 when any array differs)
import { pathToFileURL } from 'node:url';
const [a, b] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: node bench/batch-norm-bits.mjs BASE_CHECKOUT NEW_CHECKOUT');
  process.exit(2);
}
const A = (await import(pathToFileURL(a + '/dist/src/tensor/native.js').href)).native;
const B = (await import(pathToFileURL(b + '/dist/src/tensor/native.js').href)).native;
let seed = 1; const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 8 - 1;
const shapes = [[64, 32, 16], [64, 96, 16], [64, 96, 8], [64, 144, 4], [64, 384, 2], [64, 960, 1], [64, 1280, 1], [5, 37, 7], [12, 37, 7], [3, 3, 33], [64, 17, 3], [128, 64, 32]];
let bad = 0, n = 0;
for (const [N, C, side] of shapes) for (const act of [undefined, 'relu', 'relu6']) for (const withRes of [false, true]) for (const threads of [1, 2]) for (const training of [true, false]) {
  const shape = [N, C, side, side], len = N * C * side * side;
  const x = Float32Array.from({ length: len }, rnd), dy = Float32Array.from({ length: len }, rnd), r = Float32Array.from({ length: len }, rnd);
  const w = Float32Array.from({ length: C }, () => rnd() + 2), bias = Float32Array.from({ length: C }, rnd);
  const outs = [A, B].map((nat) => {
    const o = { y: new Float32Array(len), saveMean: new Float32Array(C), saveInvstd: new Float32Array(C), rm: new Float32Array(C), rv: new Float32Array(C).fill(1),
      coefficients: new Float32Array(2 * C), dx: new Float32Array(len), dw: new Float32Array(C), db: new Float32Array(C), dr: new Float32Array(len) };
    nat.batchNormForward({ x, shape, weight: w, bias, runningMean: o.rm, runningVar: o.rv, training, momentum: 0.1, eps: 1e-5, y: o.y, saveMean: o.saveMean, saveInvstd: o.saveInvstd,
      ...(act ? { activation: act } : {}), ...(withRes ? { residual: r } : {}), coefficients: o.coefficients }, threads);
    nat.batchNormBackward({ x, dy, shape, weight: w, saveMean: o.saveMean, saveInvstd: o.saveInvstd, training, dx: o.dx, dweight: o.dw, dbias: o.db,
      ...(act ? { activation: act, coefficients: o.coefficients } : {}), ...(withRes ? { residual: r, ...(act ? { dresidual: o.dr } : {}) } : {}) }, threads);
    return o;
  });
  for (const k of Object.keys(outs[0])) {
    n++;
    const u = new Uint32Array(outs[0][k].buffer), v = new Uint32Array(outs[1][k].buffer);
    if (u.some((e, i) => e !== v[i])) { bad++; console.log('DIFF', N, C, side, act, withRes, threads, k); }
  }
}
console.log(`${n} arrays compared, ${bad} differ`);
if (bad) process.exit(1);
