// max_pool_pairs_backward (the 2×2, stride-2 max pool's backward pass in one write per place)
// on the active ISA against max_pool_backward's zero-and-scatter, bit for bit: LeNet's pooled
// maps, odd rows and columns no window covers, rows narrower and wider than a vector, ReLU's mask
// (values at, below and above 0, NaN), -0 gradients, -1 indices; and refused, with the scatter's
// result still reachable, where an index lies outside its window or the pool is not 2×2.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cpu/cpu.h"
#include "pool/pool.h"
#include "test/check.h"

using namespace cnn;

void test_max_pool_pairs_backward(Isa isa) {
  std::mt19937 rng(2024);  // its own draws: the shared stream other tests read stays as it was
  struct Shape { long planes, h, w, oh, ow; };
  for (const Shape s : {Shape{6, 24, 24, 12, 12}, Shape{16, 8, 8, 4, 4}, Shape{3, 9, 7, 4, 3}, Shape{2, 11, 23, 5, 11}, Shape{5, 2, 2, 1, 1},
                        Shape{2, 6, 40, 3, 20}}) {
    const long out_n = s.planes * s.oh * s.ow, in_n = s.planes * s.h * s.w;
    std::vector<float> dy = random_vec(out_n, rng), y = random_vec(out_n, rng), idx(out_n);
    std::uniform_int_distribution<int> place(0, 4);
    for (long o = 0; o < out_n; ++o) {
      const long ph = o / s.ow % s.oh, pw = o % s.ow;
      const int k = place(rng);  // 4: no maximum (-1)
      idx[o] = k == 4 ? -1.0f : (float)((2 * ph + k / 2) * s.w + 2 * pw + k % 2);
      if (o % 7 == 0) dy[o] = -0.0f;
      if (o % 11 == 0) y[o] = 0.0f;
      if (o % 13 == 0) y[o] = NAN;
    }
    for (int masked = 0; masked < 2; ++masked)
      for (int threads = 1; threads <= 3; ++threads) {
        std::vector<float> want(in_n, NAN), got(in_n, NAN);
        max_pool_backward(s.planes, s.h * s.w, s.oh * s.ow, dy.data(), idx.data(), want.data(), threads, masked ? y.data() : nullptr);
        const bool ran = max_pool_pairs_backward(s.planes, s.h, s.w, s.oh, s.ow, dy.data(), idx.data(), got.data(), threads,
                                                 masked ? y.data() : nullptr);
        char name[160];
        std::snprintf(name, sizeof name, "max_pool_pairs_backward[%s] %ldx%ld -> %ldx%ld masked=%d threads=%d", isa_name(isa), s.h, s.w,
                      s.oh, s.ow, masked, threads);
        if (!ran) {
          std::printf("FAIL %s: refused\n", name), ++g_fail;
          continue;
        }
        // Bit for bit, the sign of zero included.
        if (std::memcmp(got.data(), want.data(), sizeof(float) * in_n) != 0) std::printf("FAIL %s: differs\n", name), ++g_fail;
        else ++g_pass;
      }
    // An index in its plane but outside its window (a 3×3 pool's): refused.
    std::vector<float> bad = idx, dx(in_n);
    bad[out_n / 2] = (float)(s.h * s.w - 1 == (long)bad[out_n / 2] ? 0 : s.h * s.w - 1);
    const long o = out_n / 2, ph = o / s.ow % s.oh, pw = o % s.ow, at = (long)bad[o];
    const bool inside = at / s.w / 2 == ph && at % s.w / 2 == pw;
    if (!inside && max_pool_pairs_backward(s.planes, s.h, s.w, s.oh, s.ow, dy.data(), bad.data(), dx.data(), 2)) {
      std::printf("FAIL max_pool_pairs_backward[%s] %ldx%ld: an index outside its window was taken\n", isa_name(isa), s.h, s.w), ++g_fail;
    } else {
      ++g_pass;
    }
  }
  // Not a 2×2 pool's geometry (a window past the plane): refused before touching dx.
  std::vector<float> dy(4, 1.0f), idx(4, 0.0f), dx(9, 7.0f);
  const bool ran = max_pool_pairs_backward(1, 3, 3, 2, 2, dy.data(), idx.data(), dx.data(), 1);
  if (ran || dx[0] != 7.0f) std::printf("FAIL max_pool_pairs_backward[%s] 3x3 -> 2x2 taken\n", isa_name(isa)), ++g_fail;
  else ++g_pass;
}
