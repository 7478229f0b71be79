// Dropout masks from a counter-based generator: element i's draw depends only on (seed, i), so
// a mask is reproducible from one 32-bit seed and generated in parallel without shared state.
#pragma once
#include <cstdint>

namespace cnn {

// The i-th uniform 32-bit draw of the stream `seed` (splitmix64 finalizer over seed and i).
// Static: each file gets its own copy, so the per-ISA mask loops inline theirs and no ISA's copy
// can stand in for another's at link time.
static inline uint32_t counter_uint32(uint32_t seed, uint64_t i) {
  uint64_t z = (uint64_t)seed * 0xD1B54A32D192ED03ULL + (i + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return (uint32_t)(z >> 32);
}

// mask[i] = scale where draw i < keep_prob·2^32 (probability keep_prob), else 0.
void dropout_mask(uint32_t seed, double keep_prob, float scale, float* mask, int64_t n, int threads);

// y[i] = x[i]·mask[i / group]: group 1 is elementwise dropout, group H·W drops whole channels.
void dropout_apply(const float* x, const float* mask, int64_t group, float* y, int64_t n, int threads);

}  // namespace cnn
