// Channel-vector depthwise loops on AVX2 + FMA: 8 channels a vector.
#include "conv/depthwise_lanes.h"
#define CNN_DWL_LANES 8
#define CNN_DWL_NAME depthwise_lanes_avx2
#include "conv/depthwise_lanes.inc"
