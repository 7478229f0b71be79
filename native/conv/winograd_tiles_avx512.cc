// Winograd tile transforms on AVX-512: 16 tiles a vector.
#include "conv/winograd_tiles.h"
#define CNN_WINO_LANES 16
#define CNN_WINO_NAME winograd_tiles_avx512
#include "conv/winograd_tiles.inc"
