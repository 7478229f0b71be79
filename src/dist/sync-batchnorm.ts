// SyncBatchNorm for data-parallel training (--sync-bn): in training mode the batch mean and
// variance of each channel are those of the whole global batch (per-channel sums all-reduced,
// two passes as the single-process kernel), and backward all-reduces Σdy and Σdy·(x − mean), so
// forward and backward equal BatchNorm over the ranks' shards concatenated. Eval mode is untouched.
import { Tensor } from '../tensor/tensor.js';
import { record } from '../tensor/ops.js';
import { native, getThreads } from '../tensor/native.js';
import type { Module } from '../nn/module.js';
import { BatchNorm1d, BatchNorm2d } from '../nn/norm.js';
import type { World } from './world.js';

type BatchNorm = BatchNorm1d | BatchNorm2d;

/** Per channel: Σ f(x[n, c, s]) over this rank's batch and spatial positions. */
function channelSums(x: Float32Array, n: number, c: number, s: number, f: (v: number, i: number, ch: number) => number, out: Float64Array): void {
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      let acc = 0;
      const base = (b * c + ch) * s;
      for (let i = base; i < base + s; i++) acc += f(x[i], i, ch);
      out[ch] += acc;
    }
  }
}

/** BatchNorm in training mode with statistics over every rank's batch (PyTorch's SyncBatchNorm). */
export function syncBatchNorm(x: Tensor, bn: BatchNorm, momentum: number, world: World): Tensor {
  const [n, c] = x.shape;
  const s = x.size / Math.max(1, n * c);
  // [Σx per channel…, count], then Σ(x − mean)² per channel.
  const sums = new Float64Array(c + 1);
  channelSums(x.data, n, c, s, (v) => v, sums);
  sums[c] = n * s;
  world.allreduceSum(sums);
  const count = sums[c];
  if (count <= 1) throw new RangeError(`Expected more than 1 value per channel when training, got ${count} over all ranks`);
  const mean = Float64Array.from(sums.subarray(0, c), (v) => v / count);
  const sq = new Float64Array(c);
  channelSums(x.data, n, c, s, (v, _i, ch) => (v - mean[ch]) * (v - mean[ch]), sq);
  world.allreduceSum(sq);
  const variance = Float64Array.from(sq, (v) => v / count);
  if (bn.runningMean && bn.runningVar) {
    for (let ch = 0; ch < c; ch++) {
      bn.runningMean.data[ch] = (1 - momentum) * bn.runningMean.data[ch] + momentum * mean[ch];
      bn.runningVar.data[ch] = (1 - momentum) * bn.runningVar.data[ch] + momentum * (sq[ch] / (count - 1));
    }
  }
  const invstd = Float64Array.from(variance, (v) => 1 / Math.sqrt(v + bn.eps));
  // The normalization itself is eval-mode BatchNorm with the global statistics.
  const y = new Float32Array(x.size);
  native.batchNormForward({
    x: x.data, shape: x.shape, weight: bn.weight?.data ?? null, bias: bn.bias?.data ?? null,
    runningMean: Float32Array.from(mean), runningVar: Float32Array.from(variance),
    training: false, momentum: 0, eps: bn.eps, y, saveMean: new Float32Array(c), saveInvstd: new Float32Array(c),
  }, getThreads());
  const { weight, bias } = bn;
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(new Tensor(y, x.shape), 'syncBatchNorm', inputs, (g) => {
    // Local Σdy and Σdy·(x − mean) per channel: the weight and bias gradients of this rank.
    const local = new Float64Array(2 * c);
    channelSums(g.data, n, c, s, (d) => d, local);
    const sumDyXc = local.subarray(c);
    channelSums(g.data, n, c, s, (d, i, ch) => d * (x.data[i] - mean[ch]), sumDyXc);
    const dw = weight?.requiresGrad ? Float32Array.from(sumDyXc, (v, ch) => v * invstd[ch]) : null;
    const db = bias?.requiresGrad ? Float32Array.from(local.subarray(0, c)) : null;
    const grads: (Tensor | null)[] = [null];
    if (x.requiresGrad) {
      const global = local.slice();
      world.allreduceSum(global);
      const dx = new Float32Array(x.size);
      for (let b = 0; b < n; b++) {
        for (let ch = 0; ch < c; ch++) {
          const k = (weight ? weight.data[ch] : 1) * invstd[ch];
          const meanDy = global[ch] / count, proj = (global[c + ch] / count) * invstd[ch] * invstd[ch];
          const base = (b * c + ch) * s;
          for (let i = base; i < base + s; i++) dx[i] = k * (g.data[i] - meanDy - (x.data[i] - mean[ch]) * proj);
        }
      }
      grads[0] = new Tensor(dx, x.shape);
    }
    if (weight) grads.push(dw ? new Tensor(dw, weight.shape) : null);
    if (bias) grads.push(db ? new Tensor(db, bias.shape) : null);
    return grads;
  });
}

/**
 * Makes every BatchNorm of the model synchronise its training statistics over the world
 * (PyTorch's convert_sync_batchnorm); eval mode keeps the layers' own running statistics.
 */
export function convertSyncBatchNorm(model: Module, world: World): number {
  let converted = 0;
  for (const m of model.modules()) {
    if (!(m instanceof BatchNorm2d || m instanceof BatchNorm1d)) continue;
    const bn = m;
    const local = bn.forward.bind(bn);
    bn.forward = (x: Tensor): Tensor => {
      // Eval mode, and inputs the layer refuses (it says why), take the layer's own path.
      if (!bn.training || world.size === 1 || x.ndim < 2 || x.shape[1] !== bn.numFeatures) return local(x);
      let momentum = bn.momentum ?? 0;
      if (bn.numBatchesTracked) {
        bn.numBatchesTracked.data[0] += 1;
        if (bn.momentum === null) momentum = 1 / bn.numBatchesTracked.data[0];
      }
      return syncBatchNorm(x, bn, momentum, world);
    };
    converted++;
  }
  return converted;
}
