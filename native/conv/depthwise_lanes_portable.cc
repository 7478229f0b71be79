// Channel-vector depthwise loops on the baseline ISA (SSE2 on x86-64, NEON on arm64): 4 channels
// a vector. Serves the scalar and NEON variants, and picks the variant for the others.
#include "conv/depthwise_lanes.h"
#define CNN_DWL_LANES 4
#define CNN_DWL_NAME depthwise_lanes_portable
#include "conv/depthwise_lanes.inc"

namespace cnn {

const DepthwiseLanes& depthwise_lanes_for(Isa isa) {
  switch (isa) {
#if defined(CNN_X86)
    case Isa::Avx2: return depthwise_lanes_avx2;
    case Isa::Avx512: return depthwise_lanes_avx512;
#endif
    default: return depthwise_lanes_portable;
  }
}

}  // namespace cnn
