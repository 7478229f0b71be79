// Optimizer loops on AVX-512.
#define CNN_OPTIM_NAME optim_rows_avx512
#include "optim/optim_rows.inc"
