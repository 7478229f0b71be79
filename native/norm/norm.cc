// Batch normalization: the active ISA's loops (norm_loops.inc) and their per-thread scratch.
#include "norm/norm.h"

#include <vector>

#include "norm/norm_loops.h"

namespace cnn {

double* norm_scratch(int64_t n) {
  thread_local std::vector<double> buf;
  if ((int64_t)buf.size() < n) buf.resize(n);
  return buf.data();
}

namespace {

const NormLoops& loops() {
  switch (active_isa()) {
#if defined(CNN_X86)
    case Isa::Avx2: return norm_loops_avx2;
    case Isa::Avx512: return norm_loops_avx512;
#endif
    default: return norm_loops_portable;
  }
}

}  // namespace

void batch_norm_forward(const BatchNormShape& sh, const float* x, const float* weight, const float* bias,
                        float* running_mean, float* running_var, bool use_batch_stats, double momentum, double eps,
                        float* y, float* save_mean, float* save_invstd, int threads, NormActivation act,
                        const NormResidual& res) {
  loops().forward(sh, x, weight, bias, running_mean, running_var, use_batch_stats, momentum, eps, y, save_mean,
                  save_invstd, threads, act, res);
}

void batch_norm_backward(const BatchNormShape& sh, const float* x, const float* dy, const float* weight,
                         const float* save_mean, const float* save_invstd, bool use_batch_stats, float* dx,
                         float* dweight, float* dbias, int threads, NormActivation act, const NormResidual& res) {
  loops().backward(sh, x, dy, weight, save_mean, save_invstd, use_batch_stats, dx, dweight, dbias, threads, act,
                   res);
}

}  // namespace cnn
