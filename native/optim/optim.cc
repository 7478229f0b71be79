// Optimizer updates: one pass over each parameter tensor, float32 arithmetic as PyTorch's CPU
// kernels do it, scalars (bias corrections, step size) computed once in double.
#include "optim/optim.h"

#include <algorithm>
#include <cmath>

#include "cpu/work_split.h"
#include "optim/optim_rows.h"

namespace cnn {

// Below this many elements a parallel region costs more than it saves.
constexpr int64_t kParallelMin = 1 << 15;

void sgd_step(float* param, const float* grad, float* buf, int64_t n, const SgdOptions& o, int threads) {
  const OptimRows& rows = optim_rows_for(active_isa());
  for_each_chunk(n, threads, kParallelMin,
                 [&](int64_t i, int64_t count) { rows.sgd(param + i, grad + i, buf ? buf + i : nullptr, count, o); });
}

void adam_step(float* param, const float* grad, float* m, float* v, float* vmax, int64_t n,
               const AdamOptions& o, int threads) {
  AdamScalars s;
  const double bias1 = 1.0 - std::pow(o.beta1, (double)o.step);
  const double bias2 = 1.0 - std::pow(o.beta2, (double)o.step);
  s.step_size = (float)(o.lr / bias1);
  s.bias2_sqrt = (float)std::sqrt(bias2);
  s.b1 = (float)o.beta1, s.b2 = (float)o.beta2;
  s.a1 = (float)(1.0 - o.beta1), s.a2 = (float)(1.0 - o.beta2);
  s.eps = (float)o.eps;
  s.wd = (float)o.weight_decay;
  s.shrink = (float)(1.0 - o.lr * o.weight_decay);
  s.decoupled = o.decoupled;
  s.coupled = !o.decoupled && o.weight_decay != 0.0;
  s.sign = o.maximize ? -1.0f : 1.0f;
  const OptimRows& rows = optim_rows_for(active_isa());
  for_each_chunk(n, threads, kParallelMin, [&](int64_t i, int64_t count) {
    rows.adam(param + i, grad + i, m + i, v + i, vmax ? vmax + i : nullptr, count, s);
  });
}

}  // namespace cnn
