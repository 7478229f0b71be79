// Fused per-tensor optimizer updates with PyTorch 1.13's update rules (torch.optim.SGD, Adam,
// AdamW, single-tensor path). Elementwise over n floats; the arrays must not overlap.
#pragma once
#include <cstdint>

namespace cnn {

struct SgdOptions {
  float lr, momentum, dampening, weight_decay;
  bool nesterov, maximize;
  // The momentum buffer was just created: it becomes d_p itself (PyTorch's clone), undamped.
  bool new_buffer;
};

// d_p = ±grad (+ wd·param); buf = momentum·buf + (1-dampening)·d_p; d_p = nesterov ? d_p +
// momentum·buf : buf; param -= lr·d_p. momentum_buffer is null exactly when momentum == 0.
void sgd_step(float* param, const float* grad, float* momentum_buffer, int64_t n,
              const SgdOptions& o, int threads);

struct AdamOptions {
  double lr, beta1, beta2, eps, weight_decay;
  int64_t step;    // the step count after this update (1 on the first)
  bool amsgrad;    // max_exp_avg_sq is non-null exactly when set
  bool decoupled;  // AdamW: param *= 1 - lr·wd instead of adding wd·param to the gradient
  bool maximize;
};

// Adam's per-call scalars in float32, as the loops use them (computed once, in double).
struct AdamScalars {
  float step_size, bias2_sqrt, b1, b2, a1, a2, eps, wd, shrink, sign;
  bool decoupled, coupled;
};

void adam_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
               float* max_exp_avg_sq, int64_t n, const AdamOptions& o, int threads);

}  // namespace cnn
