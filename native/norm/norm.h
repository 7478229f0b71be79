// Batch normalization over x laid out (N, C, S): channel c's values are x[n*C*S + c*S + s].
#pragma once
#include <cstdint>

namespace cnn {

// An activation fused into the normalization's output: ReLU, or ReLU6 (hardtanh to [0, 6]).
enum class NormActivation { None = 0, Relu, Relu6 };

struct BatchNormShape {
  int64_t n, c, s;  // batch, channels, spatial elements per channel (1 for (N, C) input)
};

// A residual (N, C, S) added to the normalization's output before the activation: y = act(bn(x) +
// residual), a ResNet block's tail or an inverted residual's, in the pass that normalizes instead
// of an add and an activation pass of their own (the sum is the unfused add's float sum).
// Backward recomputes the activation's mask from x and the residual; with an activation,
// dresidual (may be null) receives the gradient reaching the residual, dy where the activation
// passed it, and the dx pass reads it back. Without an activation that gradient is dy itself and
// dresidual is not written.
// coefficients (2C floats: a per channel, then shift; y = act(x·a + shift [+ residual])): forward
// writes them where given; backward with an activation requires the forward's, to recompute the
// values the activation saw bit for bit instead of reading y back.
struct NormResidual {
  const float* residual = nullptr;
  float* dresidual = nullptr;
  float* coefficients = nullptr;
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
                        NormActivation act = NormActivation::None, const NormResidual& res = {});

// Gradients of y = w·(x - mean)·invstd + b. With batch stats, dx includes the paths through
// mean and variance; with running stats it is dy·w·invstd. dx, dweight, dbias may be null.
// act (the fused forward's activation): dy is taken as 0 where the activation passed no gradient
// (pre-activation value <= 0, and for ReLU6 >= 6), its backward folded into this pass. The mask
// is recomputed from x and res.coefficients (the forward's) exactly as forward computed the value
// it activated, instead of reading y back.
void batch_norm_backward(const BatchNormShape& sh, const float* x, const float* dy, const float* weight,
                         const float* save_mean, const float* save_invstd,
                         bool use_batch_stats, float* dx, float* dweight, float* dbias, int threads,
                         NormActivation act = NormActivation::None, const NormResidual& res = {});

}  // namespace cnn
