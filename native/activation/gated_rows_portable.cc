// The gated activations for the baseline ISA (SSE2 on x86-64, NEON on arm64), and the dispatch.
#define CNN_GATED_NAME gated_rows_portable
#include "activation/gated_rows.inc"

namespace cnn {

const GatedRows& gated_rows_for(Isa isa) {
  switch (isa) {
#if defined(CNN_X86)
    case Isa::Avx2: return gated_rows_avx2;
    case Isa::Avx512: return gated_rows_avx512;
#endif
    default: return gated_rows_portable;
  }
}

}  // namespace cnn
