// The gated activations' loops, one copy per ISA (gated_rows.inc): exp, erfc and the division
// written branch-free so each compiles to the ISA's vectors, where libm's scalar expf/erf
// calls kept SiLU, GELU and Sigmoid at a few elements per nanosecond.
#pragma once
#include <cstdint>

#include "activation/gated.h"
#include "cpu/cpu.h"

namespace cnn {

struct GatedRows {
  // y = f(x) over n elements (y may be x).
  void (*forward)(Gated kind, const float* x, float* y, int64_t n);
  // dx = f'(x)·dy (dx may be dy).
  void (*backward)(Gated kind, const float* x, const float* dy, float* dx, int64_t n);
  // y = 1/(1 + e^(-x)).
  void (*sigmoid)(const float* x, float* y, int64_t n);
};

extern const GatedRows gated_rows_portable;
#if defined(CNN_X86)
extern const GatedRows gated_rows_avx2;
extern const GatedRows gated_rows_avx512;
#endif

const GatedRows& gated_rows_for(Isa isa);

}  // namespace cnn
