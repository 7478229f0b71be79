// im2col and col2im in vectors for narrow outputs, where per-pixel copies cost 10-20% of a layer
// (ResNet at CIFAR sizes). Whole images whose planes fit one vector (at most 16 floats in and 16
// output pixels: the 4×4 and 2×2 maps): each tap's column row is a permutation of the plane with
// zeros where the tap reads padding, so a channel is one load and one permute-and-store per tap;
// the adjoint permutes each row back and sums the taps in a register before one add into dx.
// Rows of 8 to 16 outputs whose taps span at most 32 inputs, on inputs at most 32 wide (8×8 maps,
// the 7×7 stride-2 stem on 32×32): each output row of a tap is one or two masked loads of its
// input row (the mask zeroes the padding), permuted to the stride; the adjoint sums, per input
// row, every tap row that read it, moved back by permutes, in registers before one add into dx.
// Shorter rows keep the per-pixel loops, which measured faster there.
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

// A convolution's geometry for the row kernels, output rows [oh0, oh1) (columns from 0).
struct RowColumnShape {
  int h, w, ow, kh, kw, stride_h, stride_w, dil_h, dil_w, pad_t, pad_l, oh0, oh1;
};
constexpr int kRowColumnSpan = 32;  // input floats one output row of a tap may span
constexpr int kRowColumnWidth = 16;  // kernel widths the row kernels take

struct SmallColumns {
  // col row (c·taps + t), ldc floats apart, lanes [0, P) from x (cig planes of hw floats).
  void (*im2col)(const SmallColumnTaps& s, int cig, const float* x, float* col, long ldc);
  // dx (cig planes of hw floats) += the scatter of those rows back onto their taps.
  void (*col2im_add)(const SmallColumnTaps& s, int cig, const float* col, long ldc, float* dx);
  // The same by rows, for 8 <= ow <= 16, (ow − 1)·stride_w < kRowColumnSpan, w <= kRowColumnSpan and
  // kw <= kRowColumnWidth: col row (c·taps + t)
  // holds rows [oh0, oh1) of ow floats from column 0.
  void (*im2col_rows)(const RowColumnShape& r, int cig, const float* x, float* col, long ldc);
  void (*col2im_add_rows)(const RowColumnShape& r, int cig, const float* col, long ldc, float* dx);
};

#if defined(CNN_X86)
extern const SmallColumns small_columns_avx512;
#endif

// The variant for isa, or null where the per-pixel loops serve (scalar, AVX2, NEON).
const SmallColumns* small_columns_for(Isa isa);

}  // namespace cnn
