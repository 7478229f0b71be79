// Channels-in-lanes convolution loops on AVX-512: 16 floats a vector, 32 registers.
#include "conv/lanes_rows.h"
#define CNN_LANES_LANES 16
#define CNN_LANES_REGS 32
#define CNN_LANES_NAME lanes_rows_avx512
#include "conv/lanes_rows.inc"
