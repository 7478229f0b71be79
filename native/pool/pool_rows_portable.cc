// Pooling row loops on the baseline ISA (SSE2 on x86-64, NEON on arm64): 4 floats a vector.
// Serves the scalar and NEON variants, and picks the variant for the others.
#include "pool/pool_rows.h"
#define CNN_POOL_LANES 4
#define CNN_POOL_NAME pool_rows_portable
#include "pool/pool_rows.inc"

namespace cnn {

const PoolRows& pool_rows_for(Isa isa) {
  switch (isa) {
#if defined(CNN_X86)
    case Isa::Avx2: return pool_rows_avx2;
    case Isa::Avx512: return pool_rows_avx512;
#endif
    default: return pool_rows_portable;
  }
}

}  // namespace cnn
