// Optimizer loops on AVX2.
#define CNN_OPTIM_NAME optim_rows_avx2
#include "optim/optim_rows.inc"
