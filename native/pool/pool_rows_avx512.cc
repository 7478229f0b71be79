// Pooling row loops on AVX-512: 16 floats a vector (8 or 4 for short rows).
#include "pool/pool_rows.h"
#define CNN_POOL_LANES 16
#define CNN_POOL_NAME pool_rows_avx512
#include "pool/pool_rows.inc"
