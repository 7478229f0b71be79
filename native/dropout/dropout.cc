#include "dropout/dropout.h"

#include <algorithm>
#include <cmath>

#include "cpu/work_split.h"
#include "dropout/dropout_rows.h"

namespace cnn {

static constexpr int64_t kParallelMin = 1 << 15;

void dropout_mask(uint32_t seed, double keep_prob, float scale, float* mask, int64_t n, int threads) {
  // keep iff draw < threshold; threshold 2^32 keeps everything, 0 keeps nothing.
  const uint64_t threshold = keep_prob >= 1.0 ? (1ULL << 32)
                             : keep_prob <= 0.0 ? 0
                             : (uint64_t)std::floor(keep_prob * 4294967296.0);
  const DropoutMaskRows rows = dropout_mask_rows_for(active_isa());
  const int64_t chunks = (n + kChunkFloats - 1) / kChunkFloats;
#pragma omp parallel for num_threads(threads) schedule(dynamic) if (threads > 1 && n >= kParallelMin)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = c * kChunkFloats;
    rows(seed, threshold, scale, mask + begin, begin, std::min(n, begin + kChunkFloats));
  }
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
