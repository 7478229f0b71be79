// The forward epilogue on the baseline ISA (SSE2 on x86-64, NEON on arm64): 4 floats a vector.
// Serves the scalar and NEON variants, and picks the variant for the others.
#include "conv/epilogue_rows.h"
#define CNN_EPI_LANES 4
#define CNN_EPI_NAME epilogue_rows_portable
#include "conv/epilogue_rows.inc"

namespace cnn {

const EpilogueRows& epilogue_rows_for(Isa isa) {
  switch (isa) {
#if defined(CNN_X86)
    case Isa::Avx2: return epilogue_rows_avx2;
    case Isa::Avx512: return epilogue_rows_avx512;
#endif
    default: return epilogue_rows_portable;
  }
}

}  // namespace cnn
