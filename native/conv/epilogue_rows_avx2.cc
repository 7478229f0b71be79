// The forward epilogue on AVX2: 8 floats a vector.
#include "conv/epilogue_rows.h"
#define CNN_EPI_LANES 8
#define CNN_EPI_NAME epilogue_rows_avx2
#include "conv/epilogue_rows.inc"
