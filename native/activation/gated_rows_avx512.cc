// The gated activations on AVX-512.
#define CNN_GATED_NAME gated_rows_avx512
#include "activation/gated_rows.inc"
