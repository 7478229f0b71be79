// Depthwise vector loops on AVX2 + FMA: 8 floats a vector.
#include "conv/depthwise_rows.h"
#define CNN_DW_LANES 8
#define CNN_DW_NAME depthwise_rows_avx2
#include "conv/depthwise_rows.inc"
