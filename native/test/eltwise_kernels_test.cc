// Broadcast binary ops against a loop over every index: operand layouts whose axes merge into
// one run (same shapes, trailing broadcast blocks) and ones that cannot (a channel vector, a
// transposed operand, size-1 axes in between), on 1 and 3 threads.
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "eltwise/eltwise.h"
#include "test/check.h"

using namespace cnn;

namespace {

// Row-major strides of `dims`, 0 on axes where `dims` is 1 and the output is not (broadcast).
std::vector<int64_t> strides_of(const std::vector<int64_t>& dims, const std::vector<int64_t>& out) {
  std::vector<int64_t> st(dims.size());
  int64_t run = 1;
  for (int d = (int)dims.size() - 1; d >= 0; --d) {
    st[d] = dims[d] == 1 && out[d] != 1 ? 0 : run;
    run *= dims[d];
  }
  return st;
}

}  // namespace

void test_binary_broadcast(std::mt19937& rng) {
  const std::vector<int64_t> out = {3, 5, 2, 4};
  const std::vector<std::vector<int64_t>> b_shapes = {{3, 5, 2, 4}, {1, 5, 1, 1}, {3, 1, 2, 4}, {1, 1, 1, 4}, {3, 5, 1, 1}, {1, 1, 1, 1}, {3, 5, 2, 1}};
  for (const auto& bs : b_shapes)
    for (bool transposed_a : {false, true})
      for (int op = 0; op < 4; ++op)
        for (int threads : {1, 3}) {
          std::vector<float> a = random_vec(3 * 5 * 2 * 4, rng), b = random_vec(bs[0] * bs[1] * bs[2] * bs[3], rng);
          for (float& v : b) v += 2.0f;  // no division by ~0
          std::vector<int64_t> sa = strides_of(out, out), sb = strides_of(bs, out);
          if (transposed_a) sa = {1, 3, 60, 15};  // a stored as (W, H, C, N)-major: nothing merges
          std::vector<float> got(a.size()), want(a.size());
          binary_broadcast((BinaryOp)op, a.data(), sa.data(), b.data(), sb.data(), got.data(), out.data(), 4, threads);
          int64_t k = 0;
          for (int64_t i = 0; i < 3; ++i)
            for (int64_t j = 0; j < 5; ++j)
              for (int64_t h = 0; h < 2; ++h)
                for (int64_t w = 0; w < 4; ++w, ++k) {
                  const float x = a[i * sa[0] + j * sa[1] + h * sa[2] + w * sa[3]], y = b[i * sb[0] + j * sb[1] + h * sb[2] + w * sb[3]];
                  want[k] = op == 0 ? x + y : op == 1 ? x - y : op == 2 ? x * y : x / y;
                }
          check_close("binary_broadcast op " + std::to_string(op) + " b " + std::to_string(bs[0]) + "x" + std::to_string(bs[1]) + "x" +
                          std::to_string(bs[2]) + "x" + std::to_string(bs[3]) + (transposed_a ? " a transposed" : ""),
                      got, want, 0.0f, 0.0f);
        }
}
