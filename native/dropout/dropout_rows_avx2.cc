// The dropout mask loop on AVX2.
#define CNN_DROPOUT_NAME dropout_mask_rows_avx2
#include "dropout/dropout_rows.inc"
