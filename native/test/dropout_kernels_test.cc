// The active ISA's dropout masks against counter_uint32 draw by draw: keep probabilities 0, 0.1,
// 0.5 and 1, lengths that leave vector and chunk tails, on 1 and 3 threads.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "dropout/dropout.h"
#include "test/check.h"

using namespace cnn;

void test_dropout_masks(Isa isa) {
  for (int64_t n : {int64_t(1), int64_t(37), int64_t(70001)})
    for (double keep : {0.0, 0.1, 0.5, 1.0})
      for (int threads : {1, 3}) {
        std::vector<float> got(n), want(n);
        const uint64_t threshold = keep >= 1.0 ? (1ULL << 32) : (uint64_t)std::floor(keep * 4294967296.0);
        for (int64_t i = 0; i < n; ++i) want[i] = counter_uint32(12345u, (uint64_t)i) < threshold ? 2.5f : 0.0f;
        dropout_mask(12345u, keep, 2.5f, got.data(), n, threads);
        check_close(std::string("dropout mask (") + isa_name(isa) + ") n " + std::to_string(n) + " keep " + std::to_string(keep),
                    got, want, 0.0f, 0.0f);
      }
}
