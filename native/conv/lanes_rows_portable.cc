// Channels-in-lanes convolution loops on the baseline ISA (SSE2 on x86-64, NEON on arm64): 4 floats
// a vector, 16 registers. Serves the scalar and NEON variants, and picks the variant for the others.
#include "conv/lanes_rows.h"
#define CNN_LANES_LANES 4
#define CNN_LANES_REGS 16
#define CNN_LANES_NAME lanes_rows_portable
#include "conv/lanes_rows.inc"

namespace cnn {

const LanesRows& lanes_rows_for(Isa isa) {
  switch (isa) {
#if defined(CNN_X86)
    case Isa::Avx2: return lanes_rows_avx2;
    case Isa::Avx512: return lanes_rows_avx512;
#endif
    default: return lanes_rows_portable;
  }
}

}  // namespace cnn
