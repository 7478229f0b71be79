// BatchNorm folded into the convolution before it: W' = W·s and b' = (b − mean)·s + β per
// output channel, s = γ/√(var + ε). Shared by eval-mode fusion and ONNX export's --fold-bn.

export interface BatchNormStats {
  /** γ; null for affine=False (1). */
  gamma: Float32Array | null;
  /** β; null for affine=False (0). */
  beta: Float32Array | null;
  mean: Float32Array;
  variance: Float32Array;
  eps: number;
}

/** New arrays (the inputs may be a model's own tensors): the folded weight [out, ...] and bias [out]. */
export function foldBatchNorm(weight: Float32Array, bias: Float32Array | null, outChannels: number, bn: BatchNormStats): { weight: Float32Array; bias: Float32Array } {
  const perChannel = weight.length / outChannels;
  const w = new Float32Array(weight.length), b = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    const s = (bn.gamma ? bn.gamma[o] : 1) / Math.sqrt(bn.variance[o] + bn.eps);
    for (let i = o * perChannel; i < (o + 1) * perChannel; i++) w[i] = weight[i] * s;
    b[o] = ((bias ? bias[o] : 0) - bn.mean[o]) * s + (bn.beta ? bn.beta[o] : 0);
  }
  return { weight: w, bias: b };
}
