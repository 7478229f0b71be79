// Few-input-channel convolution loops on AVX-512: 16 floats a vector.
#include "conv/few_channel_rows.h"
#define CNN_FCR_LANES 16
#define CNN_FCR_NAME few_channel_rows_avx512
#include "conv/few_channel_rows.inc"
