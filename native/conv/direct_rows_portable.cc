// Direct convolution vector loops on the baseline ISA (SSE2 on x86-64, NEON on arm64): 4 floats a
// vector, 16 registers. Serves the scalar and NEON variants, and picks the variant for the others.
#include "conv/direct_rows.h"
#define CNN_DIRECT_LANES 4
#define CNN_DIRECT_REGS 16
#define CNN_DIRECT_NAME direct_rows_portable
#include "conv/direct_rows.inc"

namespace cnn {

const DirectRows& direct_rows_for(Isa isa) {
  switch (isa) {
#if defined(CNN_X86)
    case Isa::Avx2: return direct_rows_avx2;
    case Isa::Avx512: return direct_rows_avx512;
#endif
    default: return direct_rows_portable;
  }
}

}  // namespace cnn
