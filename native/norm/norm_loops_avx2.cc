// Batch normalization loops on AVX2.
#define CNN_NORM_NAME norm_loops_avx2
#include "norm/norm_loops.inc"
