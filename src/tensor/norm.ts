// Batch normalization, as torch.nn.functional.batch_norm over the channel axis 1.
import { emptyFloat32, zeroFloat32 } from './storage.js';
import { native, getThreads, type NormActivation } from './native.js';
import { record } from './ops.js';
import { Tensor, formatShape } from './tensor.js';

export interface BatchNormOptions {
  /** Updated in place in training mode; used for normalization in eval mode. */
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  training: boolean;
  /** The running-stat update weight for this step (1/numBatchesTracked for PyTorch's momentum=None). */
  momentum: number;
  eps: number;
  /** relu/relu6(batchNorm(x)) in one pass forward and one backward (the activation's mask recomputed from x). */
  activation?: NormActivation;
  /**
   * activation(batchNorm(x) + residual) (x's shape) in the same pass: a residual block's tail without
   * an add pass and an activation pass of its own, the sum being the unfused add's exactly.
   */
  residual?: Tensor;
}

function checkChannelVector(t: Tensor | null, c: number, what: string): void {
  if (t && (t.ndim !== 1 || t.shape[0] !== c)) {
    throw new RangeError(`batchNorm: ${what} of shape ${formatShape(t.shape)} does not match ${c} channels`);
  }
}

/**
 * y = (x - mean)/sqrt(var + eps)·weight + bias per channel of x (N, C, ...). Training uses the
 * batch mean and biased variance and updates the running stats (variance unbiased); eval uses
 * the running stats.
 */
export function batchNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, o: BatchNormOptions): Tensor {
  if (x.ndim < 2) throw new RangeError(`batchNorm: expected an input (N, C, ...) with at least 2 dimensions but got ${formatShape(x.shape)}`);
  const c = x.shape[1];
  checkChannelVector(weight, c, 'weight');
  checkChannelVector(bias, c, 'bias');
  checkChannelVector(o.runningMean, c, 'runningMean');
  checkChannelVector(o.runningVar, c, 'runningVar');
  if ((o.runningMean === null) !== (o.runningVar === null)) {
    throw new TypeError('batchNorm: runningMean and runningVar must both be given or both be null');
  }
  if (!o.training && o.runningMean === null) throw new TypeError('batchNorm: running_mean must be defined in evaluation mode');
  if (!Number.isFinite(o.momentum)) throw new RangeError(`batchNorm: momentum must be a finite number but is ${o.momentum}`);
  if (!(o.eps >= 0)) throw new RangeError(`batchNorm: eps must be a non-negative number but is ${o.eps}`);
  // PyTorch's check: batch × spatial size exactly 1 (an empty batch passes).
  if (o.residual && (o.residual.ndim !== x.ndim || o.residual.shape.some((d, i) => d !== x.shape[i]))) {
    throw new RangeError(`batchNorm: residual of shape ${formatShape(o.residual.shape)} does not match the input's ${formatShape(x.shape)}`);
  }
  if (o.training && x.shape.reduce((p, d, i) => (i === 1 ? p : p * d), 1) === 1) {
    throw new RangeError(`Expected more than 1 value per channel when training, got input size ${formatShape(x.shape)}`);
  }
  const y = emptyFloat32(x.size);
  const saveMean = zeroFloat32(c), saveInvstd = zeroFloat32(c);
  // The fused activation's coefficients, for backward to recompute its mask from x.
  const coefficients = o.activation ? emptyFloat32(2 * c) : null;
  native.batchNormForward({
    x: x.data, shape: x.shape, weight: weight?.data ?? null, bias: bias?.data ?? null,
    runningMean: o.runningMean?.data ?? null, runningVar: o.runningVar?.data ?? null,
    training: o.training, momentum: o.momentum, eps: o.eps, y, saveMean, saveInvstd, ...(o.activation ? { activation: o.activation } : {}),
    ...(o.residual ? { residual: o.residual.data } : {}), coefficients,
  }, getThreads());
  const training = o.training;
  const residual = o.residual;
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : []), ...(residual ? [residual] : [])];
  const activation = o.activation;
  const name = `batchNorm${residual ? 'Add' : ''}${activation === 'relu' ? 'Relu' : activation === 'relu6' ? 'Relu6' : ''}`;
  return record(new Tensor(y, x.shape), name, inputs, (g) => {
    const dx = x.requiresGrad ? emptyFloat32(x.size) : null;
    const dw = weight?.requiresGrad ? zeroFloat32(c) : null;
    const db = bias?.requiresGrad ? zeroFloat32(c) : null;
    // The residual's gradient: dy where the activation passed it (written by the same pass), dy itself without one.
    const dr = residual?.requiresGrad && activation ? emptyFloat32(x.size) : null;
    native.batchNormBackward({
      x: x.data, dy: g.data, shape: x.shape, weight: weight?.data ?? null, saveMean, saveInvstd,
      training, dx, dweight: dw, dbias: db, ...(activation ? { activation, coefficients } : {}),
      ...(residual ? { residual: residual.data, dresidual: dr } : {}),
    }, getThreads());
    const grads: (Tensor | null)[] = [dx ? new Tensor(dx, x.shape) : null];
    if (weight) grads.push(dw ? new Tensor(dw, weight.shape) : null);
    if (bias) grads.push(db ? new Tensor(db, bias.shape) : null);
    if (residual) grads.push(!residual.requiresGrad ? null : dr ? new Tensor(dr, x.shape) : g);
    return grads;
  });
}
