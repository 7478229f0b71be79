// Optimizer updates: one pass over each parameter tensor, float32 arithmetic as PyTorch's CPU
// kernels do it, scalars (bias corrections, step size) computed once in double.
#include "optim/optim.h"
#include "cpu/work_split.h"

#include <cmath>

namespace cnn {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int64_t kParallelMin = 1 << 15;
}  // namespace

void sgd_step(float* param, const float* grad, float* buf, int64_t n, const SgdOptions& o,
              int threads) {
  const float lr = o.lr, wd = o.weight_decay, mom = o.momentum;
  const float keep = 1.0f - o.dampening;
  const float sign = o.maximize ? -1.0f : 1.0f;
#pragma omp parallel for simd num_threads(threads) schedule(dynamic, kChunkFloats) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    float d = sign * grad[i];
    if (wd != 0.0f) d = d + wd * param[i];
    if (buf) {
      const float b = o.new_buffer ? d : buf[i] * mom + keep * d;
      buf[i] = b;
      d = o.nesterov ? d + mom * b : b;
    }
    param[i] = param[i] - lr * d;
  }
}

void adam_step(float* param, const float* grad, float* m, float* v, float* vmax, int64_t n,
               const AdamOptions& o, int threads) {
  const double bias1 = 1.0 - std::pow(o.beta1, (double)o.step);
  const double bias2 = 1.0 - std::pow(o.beta2, (double)o.step);
  const float step_size = (float)(o.lr / bias1);
  const float bias2_sqrt = (float)std::sqrt(bias2);
  const float b1 = (float)o.beta1, b2 = (float)o.beta2;
  const float a1 = (float)(1.0 - o.beta1), a2 = (float)(1.0 - o.beta2);
  const float eps = (float)o.eps;
  const float wd = (float)o.weight_decay;
  const float shrink = (float)(1.0 - o.lr * o.weight_decay);
  const bool coupled = !o.decoupled && o.weight_decay != 0.0;
  const float sign = o.maximize ? -1.0f : 1.0f;
#pragma omp parallel for simd num_threads(threads) schedule(dynamic, kChunkFloats) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    float g = sign * grad[i];
    float p = param[i];
    if (o.decoupled) p = p * shrink;
    if (coupled) g = g + wd * p;
    const float mi = m[i] * b1 + a1 * g;
    float vi = v[i] * b2 + a2 * g * g;
    m[i] = mi;
    v[i] = vi;
    if (vmax) {
      // torch.maximum propagates NaN
      const float old = vmax[i];
      vi = (vi > old || vi != vi) ? vi : old;
      vmax[i] = vi;
    }
    const float denom = std::sqrt(vi) / bias2_sqrt + eps;
    param[i] = p - step_size * (mi / denom);
  }
}

}  // namespace cnn
