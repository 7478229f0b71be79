// The dropout mask loop, one per ISA (dropout_rows.inc): the counter-based draws are 64-bit
// integer arithmetic, which vectorizes only where the ISA multiplies 64-bit lanes (AVX-512DQ).
#pragma once
#include <cstdint>

#include "cpu/cpu.h"

namespace cnn {

// mask[i - begin] = draw i < threshold ? scale : 0 for i in [begin, end).
using DropoutMaskRows = void (*)(uint32_t seed, uint64_t threshold, float scale, float* mask, int64_t begin, int64_t end);

extern const DropoutMaskRows dropout_mask_rows_portable;
#if defined(CNN_X86)
extern const DropoutMaskRows dropout_mask_rows_avx2;
extern const DropoutMaskRows dropout_mask_rows_avx512;
#endif

DropoutMaskRows dropout_mask_rows_for(Isa isa);

}  // namespace cnn
