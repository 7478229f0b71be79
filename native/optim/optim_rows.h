// The optimizers' elementwise loops, one set per ISA: optim.cc splits the parameters into chunks
// over threads and runs these over each chunk. Compiled per ISA without FMA contraction, so
// every variant rounds exactly as the scalar code does (the same results on every machine).
#pragma once
#include <cstdint>

#include "cpu/cpu.h"
#include "optim/optim.h"

namespace cnn {

struct OptimRows {
  void (*sgd)(float* param, const float* grad, float* buf, int64_t n, const SgdOptions& o);
  void (*adam)(float* param, const float* grad, float* m, float* v, float* vmax, int64_t n, const AdamScalars& s);
};

extern const OptimRows optim_rows_portable;
#if defined(CNN_X86)
extern const OptimRows optim_rows_avx2;
extern const OptimRows optim_rows_avx512;
#endif

const OptimRows& optim_rows_for(Isa isa);

}  // namespace cnn
