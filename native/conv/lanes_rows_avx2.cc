// Channels-in-lanes convolution loops on AVX2 with FMA: 8 floats a vector, 16 registers.
#include "conv/lanes_rows.h"
#define CNN_LANES_LANES 8
#define CNN_LANES_REGS 16
#define CNN_LANES_NAME lanes_rows_avx2
#include "conv/lanes_rows.inc"
