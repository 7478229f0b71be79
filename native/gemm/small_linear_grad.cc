#include "gemm/small_linear_grad.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "gemm/gemm.h"

namespace cnn {

namespace {

// Below this many multiply-adds in all (~50 us on one thread), one thread does everything: the
// second thread has usually gone to sleep in the serial code before a backward's first layer,
// and waking it costs about what the split saves (resnet18's fc at batch 128, 1.3M: the region
// waited 365 us for 37 us of work on 2 threads).
constexpr double kMinParallelWork = 2e6;

// db[j] = Σ_i dy[i][j] in double, i ascending: sum_to_shape's values bit for bit.
void bias_grad(int m, int out, const float* dy, float* db) {
  thread_local std::vector<double> acc;
  acc.assign(out, 0.0);
  for (int i = 0; i < m; ++i) {
    const float* row = dy + (long)i * out;
    for (int j = 0; j < out; ++j) acc[j] += row[j];
  }
  for (int j = 0; j < out; ++j) db[j] = (float)acc[j];
}

}  // namespace

void linear_backward(Isa isa, int m, int in, int out, const float* x, const float* w, const float* dy, float* dx, float* dw,
                     float* db, int threads) {
  if ((long)m * in * out == 0) {
    // Empty sums are zeros (dx without outputs, dW without images); db still sums dy.
    if (dx) std::fill(dx, dx + (long)m * in, 0.0f);
    if (dw) std::fill(dw, dw + (long)out * in, 0.0f);
    if (db) bias_grad(m, out, dy, db);
    return;
  }
  const int products = (dx ? 1 : 0) + (dw ? 1 : 0);
  const double work = (double)m * in * out * products;
  // Each wanted product in `parts` equal row ranges, one task each, handed out as threads free up:
  // with both products, an even thread count takes nt/2 ranges of each (2 threads: one product
  // each, every B packed once), an odd one nt of each (3 threads would leave 4 tasks for 3).
  const int nt = work < kMinParallelWork ? 1 : std::max(1, threads);
  const int parts = products == 2 && nt % 2 == 0 ? nt / 2 : nt;
  const int dx_tasks = dx ? parts : 0, dw_tasks = dw ? parts : 0, tasks = dx_tasks + dw_tasks + (db && !dw ? 1 : 0);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1)
  for (int t = 0; t < tasks; ++t) {
    if (t < dx_tasks) {
      const int r0 = (int)((long)m * t / parts), r1 = (int)((long)m * (t + 1) / parts);
      if (r1 > r0) sgemm_isa(isa, false, false, r1 - r0, in, out, 1.0f, dy + (long)r0 * out, out, w, in, 0.0f, dx + (long)r0 * in, in, 1);
    } else if (t < dx_tasks + dw_tasks) {
      const int k = t - dx_tasks, o0 = (int)((long)out * k / parts), o1 = (int)((long)out * (k + 1) / parts);
      // dW rows o0..o1 = dy's columns o0..o1 (transposed) times x; the first range also sums db.
      if (o1 > o0) sgemm_isa(isa, true, false, o1 - o0, in, m, 1.0f, dy + o0, out, x, in, 0.0f, dw + (long)o0 * in, in, 1);
      if (k == 0 && db) bias_grad(m, out, dy, db);
    } else {
      bias_grad(m, out, dy, db);
    }
  }
}

}  // namespace cnn
