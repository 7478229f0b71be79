// Direct convolution vector loops on AVX-512: 16 floats a vector, 32 registers.
#include "conv/direct_rows.h"
#define CNN_DIRECT_LANES 16
#define CNN_DIRECT_REGS 32
#define CNN_DIRECT_NAME direct_rows_avx512
#include "conv/direct_rows.inc"
