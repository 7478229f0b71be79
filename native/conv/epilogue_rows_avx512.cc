// The forward epilogue on AVX-512: 16 floats a vector.
#include "conv/epilogue_rows.h"
#define CNN_EPI_LANES 16
#define CNN_EPI_NAME epilogue_rows_avx512
#include "conv/epilogue_rows.inc"
