// The machine's FMA peak, measured rather than looked up: the ISA's FMA loop (gemm.h) on every
// thread at once. On a shared CPU the multi-thread figure drops with the load, as the kernels
// measured beside it do, so their fraction of it stays meaningful.
#include <omp.h>

#include <algorithm>
#include <chrono>

#include "gemm/gemm.h"

namespace cnn {

double fma_peak_gflops(Isa isa, int threads) {
  const FmaLoop loop = gemm_kernel_for(isa).fma_loop;
  using Clock = std::chrono::steady_clock;
  auto seconds_since = [](Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  // Short rounds (~5 ms), best of those run in ~0.3 s: on a shared CPU some round runs
  // undisturbed, as the kernels' fastest calls beside it do.
  long iters = 1 << 10;
  for (;;) {
    const auto t0 = Clock::now();
    loop(iters);
    const double s = seconds_since(t0);
    if (s >= 0.002 || iters >= (1L << 40)) {
      iters = std::max<long>(1, (long)(iters * 0.005 / std::max(s, 1e-9)));
      break;
    }
    iters *= 2;
  }
  double best = 0.0;
  const auto start = Clock::now();
  for (int round = 0; round < 10 || seconds_since(start) < 0.3; ++round) {
    double flops = 0.0;
    const auto t0 = Clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : flops) if (threads > 1)
    flops += loop(iters);
    best = std::max(best, flops / seconds_since(t0) / 1e9);
  }
  return best;
}

}  // namespace cnn
