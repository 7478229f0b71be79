// Optimizer loops on the baseline ISA (SSE2 on x86-64, NEON on arm64). Serves the scalar and
// NEON variants, and picks the variant for the others.
#define CNN_OPTIM_NAME optim_rows_portable
#include "optim/optim_rows.inc"

namespace cnn {

const OptimRows& optim_rows_for(Isa isa) {
  switch (isa) {
#if defined(CNN_X86)
    case Isa::Avx2: return optim_rows_avx2;
    case Isa::Avx512: return optim_rows_avx512;
#endif
    default: return optim_rows_portable;
  }
}

}  // namespace cnn
