// The machine's FMA peak, for the fraction-of-peak figures: g++ -O3 -mavx2 -mfma -funroll-loops bench/fma-peak.cc -o /tmp/fma-peak && /tmp/fma-peak
// Peak FMA throughput per core: 12 independent accumulator chains of 8-wide FMAs.
#include <immintrin.h>
#include <chrono>
#include <cstdio>
int main() {
  __m256 acc[12]; for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(0.f);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  const long iters = 400000000;
  auto t0 = std::chrono::steady_clock::now();
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  float sink = 0; for (int i = 0; i < 12; ++i) sink += _mm256_cvtss_f32(acc[i]);
  printf("%.1f GFLOP/s per core (sink %g)\n", iters * 12.0 * 16 / s / 1e9, sink);
}
