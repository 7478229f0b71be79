// The gated activations on AVX2 + FMA.
#define CNN_GATED_NAME gated_rows_avx2
#include "activation/gated_rows.inc"
