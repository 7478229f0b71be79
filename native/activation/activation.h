// Pointwise activations and softmax over one axis of a tensor viewed as (outer, dim, inner).
#pragma once
#include <cstdint>

namespace cnn {

// y = x > 0 ? x : slope·x ; dx = x > 0 ? dy : slope·dy (PyTorch's choice at 0)
void leaky_relu_forward(const float* x, float* y, int64_t n, float slope, int threads);
void leaky_relu_backward(const float* x, const float* dy, float* dx, int64_t n, float slope, int threads);
// Backward passes take the forward output y, as PyTorch's do.
void sigmoid_forward(const float* x, float* y, int64_t n, int threads);
void sigmoid_backward(const float* y, const float* dy, float* dx, int64_t n, int threads);
void tanh_forward(const float* x, float* y, int64_t n, int threads);
void tanh_backward(const float* y, const float* dy, float* dx, int64_t n, int threads);

// Softmax (or log-softmax when log) along the middle axis of x(outer, dim, inner); the max is
// subtracted first and the normalizer is summed in double.
void softmax_forward(const float* x, float* y, int64_t outer, int64_t dim, int64_t inner,
                     bool log, int threads);
// From the forward output y: softmax dx = y·(dy - Σdy·y); log-softmax dx = dy - exp(y)·Σdy.
void softmax_backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t dim,
                      int64_t inner, bool log, int threads);

}  // namespace cnn
