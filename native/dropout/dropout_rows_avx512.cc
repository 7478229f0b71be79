// The dropout mask loop on AVX-512 (DQ: 64-bit lane multiplies).
#define CNN_DROPOUT_NAME dropout_mask_rows_avx512
#include "dropout/dropout_rows.inc"
