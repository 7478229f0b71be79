// Elementwise ops and reductions over float32 buffers, with NumPy/PyTorch broadcasting.
#pragma once
#include <cstdint>

namespace cnn {

constexpr int kMaxDims = 8;

enum class BinaryOp { Add = 0, Sub = 1, Mul = 2, Div = 3 };

// out(shape) = a op b, where a and b are broadcast to `shape` by their strides (0 on a
// broadcast axis). ndim <= kMaxDims.
void binary_broadcast(BinaryOp op, const float* a, const int64_t* a_strides, const float* b,
                      const int64_t* b_strides, float* out, const int64_t* shape, int ndim,
                      int threads);

// out(target) = sum of x(shape) over the axes where target has extent 1 (same ndim).
void sum_to_shape(const float* x, const int64_t* shape, int ndim, float* out,
                  const int64_t* target);

void relu_forward(const float* x, float* y, int64_t n, int threads);
// dx = dy where x > 0, else 0 (PyTorch's subgradient at 0).
void relu_backward(const float* x, const float* dy, float* dx, int64_t n, int threads);
// y = min(max(x, lo), hi); backward passes dy only strictly inside (lo, hi), as PyTorch's hardtanh.
void hardtanh_forward(const float* x, float* y, int64_t n, float lo, float hi, int threads);
void hardtanh_backward(const float* x, const float* dy, float* dx, int64_t n, float lo, float hi, int threads);
// y += alpha · x
void axpy(float alpha, const float* x, float* y, int64_t n, int threads);
// y = alpha · x
void scale(float alpha, const float* x, float* y, int64_t n, int threads);
// Pairwise-free sum in double, so long sums stay accurate.
double sum(const float* x, int64_t n);
// Σ x² in double (a gradient's squared L2 norm for clipping).
double sum_squares(const float* x, int64_t n);
// The index of the first of `count` arrays holding a NaN or an infinity, or -1: one parallel
// pass over all their elements (a checkpoint's weights before it is written).
int64_t first_nonfinite(const float* const* arrays, const int64_t* lengths, int64_t count, int threads);

}  // namespace cnn
