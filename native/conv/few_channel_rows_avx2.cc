// Few-input-channel convolution loops on AVX2: 8 floats a vector.
#include "conv/few_channel_rows.h"
#define CNN_FCR_LANES 8
#define CNN_FCR_NAME few_channel_rows_avx2
#include "conv/few_channel_rows.inc"
