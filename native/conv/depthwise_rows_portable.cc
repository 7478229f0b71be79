// Depthwise vector loops on the baseline ISA (SSE2 on x86-64, NEON on arm64): 4 floats a vector.
// Serves the scalar and NEON variants, and picks the variant for the others.
#include "conv/depthwise_rows.h"
#define CNN_DW_LANES 4
#define CNN_DW_NAME depthwise_rows_portable
#include "conv/depthwise_rows.inc"

namespace cnn {

const DepthwiseRows& depthwise_rows_for(Isa isa) {
  switch (isa) {
#if defined(CNN_X86)
    case Isa::Avx2: return depthwise_rows_avx2;
    case Isa::Avx512: return depthwise_rows_avx512;
#endif
    default: return depthwise_rows_portable;
  }
}

}  // namespace cnn
