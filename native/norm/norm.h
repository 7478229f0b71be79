// Batch normalization over x laid out (N, C, S): channel c's values are x[n*C*S + c*S + s].
#pragma once
#include <cstdint>

namespace cnn {

// An activation fused into the normalization's output: ReLU, or ReLU6 (hardtanh to [0, 6]).
enum class NormActivation { None = 0, Relu, Relu6 };

struct BatchNormShape {
  int64_t n, c, s;  // batch, channels, spatial elements per channel (1 for (N, C) input)
};

// Training (use_batch_stats): normalizes with the batch mean and biased variance, writes them
// as save_mean / save_invstd = 1/sqrt(var + eps), and, where running stats are given, updates
// them in place: r = (1 - momentum)·r + momentum·batch (running_var takes the unbiased
// variance). Otherwise normalizes with the running stats (both required), which it also
// writes to save_mean / save_invstd. weight/bias may be null (identity affine). act: y is the
// activation of the normalized value (BatchNorm → ReLU/ReLU6 in one pass over the activations),
// with relu_forward's and hardtanh_forward's exact values.
void batch_norm_forward(const BatchNormShape& sh, const float* x, const float* weight,
                        const float* bias, float* running_mean, float* running_var,
                        bool use_batch_stats, double momentum, double eps, float* y,
                        float* save_mean, float* save_invstd, int threads,
                        NormActivation act = NormActivation::None);

// Gradients of y = w·(x - mean)·invstd + b. With batch stats, dx includes the paths through
// mean and variance; with running stats it is dy·w·invstd. dx, dweight, dbias may be null.
// act_output (the fused forward's y; null when act is None): dy is taken as 0 where the
// activation passes no gradient (y <= 0, and for ReLU6 y >= 6), its backward folded into this pass.
void batch_norm_backward(const BatchNormShape& sh, const float* x, const float* dy,
                         const float* weight, const float* save_mean, const float* save_invstd,
                         bool use_batch_stats, float* dx, float* dweight, float* dbias,
                         int threads, NormActivation act = NormActivation::None,
                         const float* act_output = nullptr);

}  // namespace cnn
