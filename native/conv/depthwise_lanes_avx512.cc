// Channel-vector depthwise loops on AVX-512: 16 channels a vector.
#include "conv/depthwise_lanes.h"
#define CNN_DWL_LANES 16
#define CNN_DWL_NAME depthwise_lanes_avx512
#include "conv/depthwise_lanes.inc"
