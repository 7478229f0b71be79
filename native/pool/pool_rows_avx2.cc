// Pooling row loops on AVX2: 8 floats a vector (4 for short rows).
#include "pool/pool_rows.h"
#define CNN_POOL_LANES 8
#define CNN_POOL_NAME pool_rows_avx2
#include "pool/pool_rows.inc"
