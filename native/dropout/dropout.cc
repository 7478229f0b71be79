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
  for_each_chunk(n, threads, kParallelMin,
                 [&](int64_t begin, int64_t len) { rows(seed, threshold, scale, mask + begin, begin, begin + len); });
}

namespace {

// One chunk each, as values (see eltwise.cc's relu_rows): y = x·mask, or for groups of `group`
// elements sharing one mask value, y = x·mask[g].
void masked_rows(const float* x, const float* mask, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * mask[i];
}

void masked_groups(const float* x, const float* mask, int64_t group, float* y, int64_t groups) {
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t j = 0; j < group; ++j) y[g * group + j] = x[g * group + j] * mask[g];
}

}  // namespace

void dropout_apply(const float* x, const float* mask, int64_t group, float* y, int64_t n, int threads) {
  if (group == 1) {
    for_each_chunk(n, threads, kParallelMin,
                   [&](int64_t at, int64_t len) { masked_rows(x + at, mask + at, y + at, len); });
    return;
  }
  const int64_t groups = group > 0 ? n / group : 0;
  const int64_t per = chunk_items(group), chunks = (groups + per - 1) / per;
  for_each_share(chunks, 1, threads, threads > 1 && n >= kParallelMin, [&](int64_t c) {
    const int64_t g0 = c * per;
    masked_groups(x + g0 * group, mask + g0, group, y + g0 * group, std::min(per, groups - g0));
  });
}

}  // namespace cnn
