// Dropout masks from a counter-based generator: element i's draw depends only on (seed, i), so
// a mask is reproducible from one 32-bit seed and generated in parallel without shared state.
#pragma once
#include <cstdint>

namespace cnn {

// The i-th uniform 32-bit draw of the stream `seed` (splitmix64 finalizer over seed and i).
uint32_t counter_uint32(uint32_t seed, uint64_t i);

// mask[i] = scale where draw i < keep_prob·2^32 (probability keep_prob), else 0.
void dropout_mask(uint32_t seed, double keep_prob, float scale, float* mask, int64_t n, int threads);

// y[i] = x[i]·mask[i / group]: group 1 is elementwise dropout, group H·W drops whole channels.
void dropout_apply(const float* x, const float* mask, int64_t group, float* y, int64_t n, int threads);

}  // namespace cnn
