// The forward epilogue over one run of outputs, dst[q] = clamp(src[q] + bias (+ res[q]), lo, hi),
// one loop per ISA: the callers (every convolution path's store) are compiled for the baseline
// ISA, where it ran 4 floats a step (work.h's epilogue_run sends runs of 128 and more here).
#pragma once
#include "cpu/cpu.h"

namespace cnn {

struct EpilogueRows {
  // res: the residual at dst's place, or null; dst may be src. NaN passes the clamp.
  void (*run)(float* dst, const float* src, long n, float bias, const float* res, float lo, float hi);
};

extern const EpilogueRows epilogue_rows_portable;
#if defined(CNN_X86)
extern const EpilogueRows epilogue_rows_avx2;
extern const EpilogueRows epilogue_rows_avx512;
#endif

const EpilogueRows& epilogue_rows_for(Isa isa);

}  // namespace cnn
