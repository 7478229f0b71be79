// Winograd tile transforms on AVX2 + FMA: 8 tiles a vector.
#include "conv/winograd_tiles.h"
#define CNN_WINO_LANES 8
#define CNN_WINO_NAME winograd_tiles_avx2
#include "conv/winograd_tiles.inc"
