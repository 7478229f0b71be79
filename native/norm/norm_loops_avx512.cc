// Batch normalization loops on AVX-512.
#define CNN_NORM_NAME norm_loops_avx512
#include "norm/norm_loops.inc"
