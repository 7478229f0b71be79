// Few-input-channel convolution loops on the baseline ISA (SSE2 on x86-64, NEON on arm64): 4
// floats a vector. Serves the scalar and NEON variants, and picks the variant for the others.
#include "conv/few_channel_rows.h"
#define CNN_FCR_LANES 4
#define CNN_FCR_NAME few_channel_rows_portable
#include "conv/few_channel_rows.inc"

namespace cnn {

const FewChannelRows& few_channel_rows_for(Isa isa) {
  switch (isa) {
#if defined(CNN_X86)
    case Isa::Avx2: return few_channel_rows_avx2;
    case Isa::Avx512: return few_channel_rows_avx512;
#endif
    default: return few_channel_rows_portable;
  }
}

}  // namespace cnn
