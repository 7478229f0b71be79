// Batch normalization's loops, one set per ISA (norm_loops.inc); norm.cc picks the active one.
#pragma once
#include <cstdint>

#include "cpu/cpu.h"
#include "norm/norm.h"

namespace cnn {

struct NormLoops {
  void (*forward)(const BatchNormShape& sh, const float* x, const float* weight, const float* bias, float* running_mean,
                  float* running_var, bool use_batch_stats, double momentum, double eps, float* y, float* save_mean,
                  float* save_invstd, int threads, NormActivation act, const NormResidual& res);
  void (*backward)(const BatchNormShape& sh, const float* x, const float* dy, const float* weight,
                   const float* save_mean, const float* save_invstd, bool use_batch_stats, float* dx, float* dweight,
                   float* dbias, int threads, NormActivation act, const NormResidual& res);
};

extern const NormLoops norm_loops_portable;
#if defined(CNN_X86)
extern const NormLoops norm_loops_avx2;
extern const NormLoops norm_loops_avx512;
#endif

// The calling thread's scratch of at least n doubles; it only grows, so steady-state steps do
// not allocate (kept in norm.cc, out of the per-ISA files).
double* norm_scratch(int64_t n);

}  // namespace cnn
