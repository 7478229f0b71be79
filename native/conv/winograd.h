// 3×3 stride-1 convolutions by Winograd's F(4×4, 3×3) (Lavin & Gray 2016): each 4×4 block of
// output is Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A over the 6×6 input patch d, so the products over channels
// become 36 GEMMs of Cout × Cin by Cin × tiles: 36 multiplies per 16 outputs instead of 144, 4×
// fewer flops than the direct sum, for a rounding error some 10× the direct sum's (the transforms
// scale by up to 8 and 1/24; winograd.cc measures it against conv2d_ref in the kernel tests).
#pragma once
#include "conv/conv.h"

namespace cnn {

// Whether p can run by Winograd here: ungrouped 3×3, stride 1, dilation 1.
bool conv_winograd_fits(const Conv2dParams& p);
// Whether the shape choice (Auto) takes Winograd for p's forward pass once its transformed
// weights are at hand (the crossover measured against the other paths).
bool conv_winograd_wins(const Conv2dParams& p, int threads);
// Whether Auto takes Winograd for p's forward pass when the weights are transformed in the call
// (training), which costs more on few tiles.
bool conv_winograd_wins_per_call(const Conv2dParams& p, int threads);
// p's input gradient is the forward pass q of dy through p's weights turned 180° with their
// channels swapped (pads 2 − p's): false where p is no 3×3 stride-1 layer or pads more than 2.
bool winograd_input_gradient_params(const Conv2dParams& p, Conv2dParams* q);
// dx overwritten with p's input gradient, as q's forward pass by Winograd (weights transformed here).
void conv2d_backward_input_winograd(const Conv2dParams& p, const float* dy, const float* w, float* dx, int threads);
// Floats of p's transformed weights: 36 × Cout × Cin.
long winograd_weights_floats(const Conv2dParams& p);
// u[ξ][co][ci] = (G w[co][ci] Gᵀ)[ξ], ξ < 36, computed in double. Eval caches it per weight version.
void winograd_transform_weights(const Conv2dParams& p, const float* w, float* u, int threads);
// The forward pass with the epilogue, y overwritten. u: w transformed (winograd_transform_weights),
// or null to transform it here for this call.
void conv2d_forward_winograd(const Conv2dParams& p, const float* x, const float* w, const float* u, const float* b,
                             float* y, int threads, const ConvEpilogue& e);
// The forward pass clamped to [lo, hi], then max-pooled 2 × 2 with stride 2 as eval's MaxPool2d
// (floor mode): y is N × Cout × ⌊OH/2⌋ × ⌊OW/2⌋, the unpooled output never stored.
void conv2d_forward_winograd_max_pool(const Conv2dParams& p, const float* x, const float* w, const float* u,
                                      const float* b, float* y, int threads, float lo, float hi);

}  // namespace cnn
