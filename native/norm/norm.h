// Batch normalization over x laid out (N, C, S): channel c's values are x[n*C*S + c*S + s].
#pragma once
#include <cstdint>

namespace cnn {

struct BatchNormShape {
  int64_t n, c, s;  // batch, channels, spatial elements per channel (1 for (N, C) input)
};

// Training (use_batch_stats): normalizes with the batch mean and biased variance, writes them
// as save_mean / save_invstd = 1/sqrt(var + eps), and, where running stats are given, updates
// them in place: r = (1 - momentum)·r + momentum·batch (running_var takes the unbiased
// variance). Otherwise normalizes with the running stats (both required), which it also
// writes to save_mean / save_invstd. weight/bias may be null (identity affine). relu: y is
// max(0, ·) of the normalized value (BatchNorm → ReLU in one pass over the activations).
void batch_norm_forward(const BatchNormShape& sh, const float* x, const float* weight,
                        const float* bias, float* running_mean, float* running_var,
                        bool use_batch_stats, double momentum, double eps, float* y,
                        float* save_mean, float* save_invstd, int threads, bool relu = false);

// Gradients of y = w·(x - mean)·invstd + b. With batch stats, dx includes the paths through
// mean and variance; with running stats it is dy·w·invstd. dx, dweight, dbias may be null.
// relu_output (the fused forward's y, or null): dy is taken as 0 where it is <= 0, the ReLU's
// backward folded into this pass.
void batch_norm_backward(const BatchNormShape& sh, const float* x, const float* dy,
                         const float* weight, const float* save_mean, const float* save_invstd,
                         bool use_batch_stats, float* dx, float* dweight, float* dbias,
                         int threads, const float* relu_output = nullptr);

}  // namespace cnn
