// Activations of the form x·gate(x) (SiLU, GELU, Hardswish) and the Hardsigmoid gate itself,
// as PyTorch computes them; backward passes take the input x.
#pragma once
#include <cstdint>

namespace cnn {

enum class Gated : int {
  kSilu = 0,         // x·σ(x)
  kGeluErf = 1,      // x·Φ(x) = ½x(1 + erf(x/√2))
  kGeluTanh = 2,     // ½x(1 + tanh(√(2/π)(x + 0.044715x³))), GELU(approximate='tanh')
  kHardswish = 3,    // x·relu6(x + 3)/6
  kHardsigmoid = 4,  // relu6(x + 3)/6
};
constexpr int kGatedKinds = 5;

void gated_forward(Gated kind, const float* x, float* y, int64_t n, int threads);
// dx = f'(x)·dy with PyTorch's choices at the kinks (Hardswish: 0 below -3, x/3 + ½ on
// [-3, 3), 1 from 3 on; Hardsigmoid: 1/6 strictly inside (-3, 3), else 0).
void gated_backward(Gated kind, const float* x, const float* dy, float* dx, int64_t n, int threads);

}  // namespace cnn
