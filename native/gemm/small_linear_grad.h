// A Linear layer's backward pass as one parallel region: dx = dy·W, dW = dyᵀ·x and db (dy's
// column sums) are independent products, so each thread takes whole row ranges of them on one
// core (the single-threaded GEMM path: no barrier, no shared packed panel) instead of the three
// being run one after another with both threads meeting inside each. LeNet's first layer at
// batch 64: dx and dW are 2M multiply-adds each, one per thread.
#pragma once
#include "cpu/cpu.h"

namespace cnn {

// x (m × in), w (out × in), dy (m × out) → dx (m × in), dw (out × in), db (out); any of the
// three outputs may be null (not wanted). db sums in double, rows in order (sum_to_shape's order).
void linear_backward(Isa isa, int m, int in, int out, const float* x, const float* w, const float* dy, float* dx, float* dw,
                     float* db, int threads);

}  // namespace cnn
