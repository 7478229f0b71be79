// Channel-last depthwise loops on the baseline ISA (SSE2 on x86-64, NEON on arm64): 4 floats a
// vector. Serves the scalar and NEON variants, and picks the variant for the others.
#include "conv/depthwise_pixels.h"
#define CNN_DWP_LANES 4
#define CNN_DWP_NAME depthwise_pixels_portable
#include "conv/depthwise_pixels.inc"

namespace cnn {

const DepthwisePixels& depthwise_pixels_for(Isa isa) {
  switch (isa) {
#if defined(CNN_X86)
    case Isa::Avx2: return depthwise_pixels_avx2;
    case Isa::Avx512: return depthwise_pixels_avx512;
#endif
    default: return depthwise_pixels_portable;
  }
}

}  // namespace cnn
