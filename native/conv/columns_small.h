// im2col and col2im for whole images whose planes fit one vector (at most 16 floats in and 16
// output pixels: ResNet's 4×4 and 2×2 maps at CIFAR sizes, where per-pixel copies cost 10-15% of
// a layer). Each tap's column row is a permutation of the plane with zeros where the tap reads
// padding, so a channel is one load and one permute-and-store per tap; the adjoint permutes each
// row back and sums the taps in a register before one add into dx.
#pragma once
#include "cpu/cpu.h"

namespace cnn {

constexpr int kSmallColumnLanes = 16;
constexpr int kSmallColumnTaps = 25;  // kernels up to 5×5

// Tap t's lanes: lane q of its column row takes plane lane from[t][q]; lane r of the plane gets
// column lane to[t][r] back (-1: none, a zero or nothing added).
struct SmallColumnTaps {
  int taps, hw, P;  // taps, floats per input plane, output pixels per image
  int from[kSmallColumnTaps][kSmallColumnLanes];
  int to[kSmallColumnTaps][kSmallColumnLanes];
};

struct SmallColumns {
  // col row (c·taps + t), ldc floats apart, lanes [0, P) from x (cig planes of hw floats).
  void (*im2col)(const SmallColumnTaps& s, int cig, const float* x, float* col, long ldc);
  // dx (cig planes of hw floats) += the scatter of those rows back onto their taps.
  void (*col2im_add)(const SmallColumnTaps& s, int cig, const float* col, long ldc, float* dx);
};

#if defined(CNN_X86)
extern const SmallColumns small_columns_avx512;
#endif

// The variant for isa, or null where the per-pixel loops serve (scalar, AVX2, NEON).
const SmallColumns* small_columns_for(Isa isa);

}  // namespace cnn
