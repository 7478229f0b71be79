// Channel-last depthwise loops on AVX-512: 16 floats a vector.
#include "conv/depthwise_pixels.h"
#define CNN_DWP_LANES 16
#define CNN_DWP_NAME depthwise_pixels_avx512
#include "conv/depthwise_pixels.inc"
