#include "activation/gated.h"
#include "activation/gated_rows.h"
#include "cpu/work_split.h"

// The loops run per ISA (gated_rows.inc), in chunks handed out dynamically.
namespace cnn {

// Below this many elements a thread team costs more than the loop.
static constexpr int64_t kParallelMin = 1 << 14;

void gated_forward(Gated kind, const float* x, float* y, int64_t n, int threads) {
  const GatedRows& rows = gated_rows_for(active_isa());
  for_each_chunk(n, threads, kParallelMin, [&](int64_t at, int64_t len) { rows.forward(kind, x + at, y + at, len); });
}

void gated_backward(Gated kind, const float* x, const float* dy, float* dx, int64_t n, int threads) {
  const GatedRows& rows = gated_rows_for(active_isa());
  for_each_chunk(n, threads, kParallelMin, [&](int64_t at, int64_t len) { rows.backward(kind, x + at, dy + at, dx + at, len); });
}

}  // namespace cnn
