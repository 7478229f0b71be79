#include "dropout/dropout.h"

#include <cmath>

namespace cnn {

static constexpr int64_t kParallelMin = 1 << 15;

uint32_t counter_uint32(uint32_t seed, uint64_t i) {
  uint64_t z = (uint64_t)seed * 0xD1B54A32D192ED03ULL + (i + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return (uint32_t)(z >> 32);
}

void dropout_mask(uint32_t seed, double keep_prob, float scale, float* mask, int64_t n, int threads) {
  // keep iff draw < threshold; threshold 2^32 keeps everything, 0 keeps nothing.
  const uint64_t threshold = keep_prob >= 1.0 ? (1ULL << 32)
                             : keep_prob <= 0.0 ? 0
                             : (uint64_t)std::floor(keep_prob * 4294967296.0);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) mask[i] = (uint64_t)counter_uint32(seed, (uint64_t)i) < threshold ? scale : 0.0f;
}

void dropout_apply(const float* x, const float* mask, int64_t group, float* y, int64_t n, int threads) {
  if (group == 1) {
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * mask[i];
    return;
  }
  const int64_t groups = group > 0 ? n / group : 0;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && n >= kParallelMin)
  for (int64_t g = 0; g < groups; ++g) {
    const float m = mask[g];
    for (int64_t j = 0; j < group; ++j) y[g * group + j] = x[g * group + j] * m;
  }
}

}  // namespace cnn
