// 2-D pooling over NCHW float32, one H×W plane at a time (planes = N·C), PyTorch semantics.
// Max-pool indices are flat positions in the input plane (ih·W + iw) stored as float, as the
// Tensor API holds only float32; an empty window (all padding) gets -inf and index -1.
#pragma once
#include <cmath>
#include <cstdint>

namespace cnn {

struct Pool2dParams {
  int64_t planes, h, w;
  int kh, kw;
  int stride_h, stride_w;
  int pad_h, pad_w;
  int dil_h, dil_w;   // 1 for average pooling
  int64_t out_h, out_w;
};

// PyTorch's pooling_output_shape: floor (or ceil) division, and with ceil_mode the last window
// must start inside the input or the left padding. May return < 1 (the caller reports it).
int64_t pool_output_size(int64_t in, int k, int pad, int stride, int dilation, bool ceil_mode);

// y, idx: planes×out_h×out_w. Ties keep the first maximum; NaN wins, as ATen. idx may be null
// (inference needs no argmax). lo/hi: eval fusion's ReLU (0, ∞) or ReLU6 (0, 6) applied to each
// output as ReLU would apply it to each input (max commutes with it): v > lo ? v : lo, then
// v < hi ? v : hi. Windows of up to 8×8 with horizontal stride 1 or 2 run the per-ISA vector
// loops (pool_rows.h) and give max_pool2d_ref's values and indices bit for bit; without idx
// (dilation 1, planes that do not stack) the values come from two passes, row maxima then column
// maxima (PoolRows::max_plane_separable), also bit for bit.
void max_pool2d_forward(const Pool2dParams& p, const float* x, float* y, float* idx, int threads,
                        float lo = -INFINITY, float hi = INFINITY);
// The direct loop over each window: the reference, and the path of every other window.
void max_pool2d_ref(const Pool2dParams& p, const float* x, float* y, float* idx, int threads);

// dx (planes×in_h×in_w) = 0, then dx[plane][idx] += dy for every output; idx < 0 is skipped,
// and so is every output whose y is not above 0 where y is given (the pooled values of a ReLU
// before the pool: its backward mask, applied on the pooled side). Shared by max_pool2d and
// adaptive_max_pool2d. idx must hold integers in [-1, in_h·in_w).
void max_pool_backward(int64_t planes, int64_t in_size, int64_t out_size, const float* dy,
                       const float* idx, float* dx, int threads, const float* y = nullptr);

// max_pool_backward's dx where every output's index lies in its own 2×2 window at (2·oh, 2·ow)
// (a 2×2, stride-2 pool: LeNet's, the pooled convolution's), written in one pass without the
// zeroing and the scatter, and with no index check needed (nothing is written outside dx);
// false, with dx written but not the gradient, where the shapes or any index do not fit: the
// caller then checks the indices and runs max_pool_backward.
bool max_pool_pairs_backward(int64_t planes, int64_t h, int64_t w, int64_t oh, int64_t ow, const float* dy, const float* idx,
                             float* dx, int threads, const float* y = nullptr);

// The first i where idx[i] is not an integer in [-1, limit), or -1 when every one is: the
// check max_pool_backward's callers make, as a parallel scan without a libm call per element.
int64_t first_bad_index(const float* idx, int64_t n, int64_t limit, int threads);

// divisor_override 0 means none. ATen's AvgPool2d divisor rules (pool size clipped to the
// padded input, count_include_pad, divisor_override).
// The forward pass runs the vector loops where max_pool2d_forward does, summing in the
// reference's order: avg_pool2d_ref's values bit for bit.
void avg_pool2d_forward(const Pool2dParams& p, bool count_include_pad, int divisor_override,
                        const float* x, float* y, int threads);
void avg_pool2d_ref(const Pool2dParams& p, bool count_include_pad, int divisor_override,
                    const float* x, float* y, int threads);
void avg_pool2d_backward(const Pool2dParams& p, bool count_include_pad, int divisor_override,
                         const float* dy, float* dx, int threads);

// Adaptive pooling: output cell i covers [floor(i·H/oh), ceil((i+1)·H/oh)). The average's
// forward pass sums each cell in the reference's order (adaptive_avg_pool2d_ref's values bit for
// bit): a 1×1 output (global average pooling) through the per-ISA vector loops, L planes at a
// time; a 1×1 input broadcast to every cell; other sizes through the reference.
void adaptive_avg_pool2d_forward(int64_t planes, int64_t h, int64_t w, int64_t oh, int64_t ow,
                                 const float* x, float* y, int threads);
// The direct loop over each cell (its bounds worked out once per call).
void adaptive_avg_pool2d_ref(int64_t planes, int64_t h, int64_t w, int64_t oh, int64_t ow,
                             const float* x, float* y, int threads);
void adaptive_avg_pool2d_backward(int64_t planes, int64_t h, int64_t w, int64_t oh, int64_t ow,
                                  const float* dy, float* dx, int threads);
void adaptive_max_pool2d_forward(int64_t planes, int64_t h, int64_t w, int64_t oh, int64_t ow,
                                 const float* x, float* y, float* idx, int threads);

}  // namespace cnn
