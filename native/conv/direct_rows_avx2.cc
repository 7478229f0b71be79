// Direct convolution vector loops on AVX2 + FMA: 8 floats a vector, 16 registers.
#include "conv/direct_rows.h"
#define CNN_DIRECT_LANES 8
#define CNN_DIRECT_REGS 16
#define CNN_DIRECT_NAME direct_rows_avx2
#include "conv/direct_rows.inc"
