// Batch normalization loops on the baseline ISA (SSE2 on x86-64, NEON on arm64).
#define CNN_NORM_NAME norm_loops_portable
#include "norm/norm_loops.inc"
