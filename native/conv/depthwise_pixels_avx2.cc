// Channel-last depthwise loops on AVX2 + FMA: 8 floats a vector.
#include "conv/depthwise_pixels.h"
#define CNN_DWP_LANES 8
#define CNN_DWP_NAME depthwise_pixels_avx2
#include "conv/depthwise_pixels.inc"
