// Depthwise vector loops on AVX-512: 16 floats a vector.
#include "conv/depthwise_rows.h"
#define CNN_DW_LANES 16
#define CNN_DW_NAME depthwise_rows_avx512
#include "conv/depthwise_rows.inc"
