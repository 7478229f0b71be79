// Winograd tile transforms on the baseline ISA (SSE2 on x86-64, NEON on arm64): 4 tiles a vector.
// Serves the scalar and NEON variants, and picks the variant for the others.
#include "conv/winograd_tiles.h"
#define CNN_WINO_LANES 4
#define CNN_WINO_NAME winograd_tiles_portable
#include "conv/winograd_tiles.inc"

namespace cnn {

const WinogradTiles& winograd_tiles_for(Isa isa) {
  switch (isa) {
#if defined(CNN_X86)
    case Isa::Avx2: return winograd_tiles_avx2;
    case Isa::Avx512: return winograd_tiles_avx512;
#endif
    default: return winograd_tiles_portable;
  }
}

}  // namespace cnn
