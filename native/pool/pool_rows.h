// The vector loops of 2-D pooling, one set per ISA. The driver (pool.cc) hands them one plane's
// interior columns (windows that need no horizontal clipping, stride 1 or 2); the loops clip the
// window's rows themselves and never read padding. The driver does the edge columns.
#pragma once
#include "cpu/cpu.h"

namespace cnn {

// One H×W input plane and its out_h×out_w output plane. Output (oh, ow) for ow in [col_begin,
// col_end) reads the input rows row_first[oh] + r·dil_h, r < row_count[oh] (the window's rows
// inside the input), and in each the taps ow·stride_w - pad_w + t·dil_w, t < kw: row after row,
// tap after tap (the reference's order, so ties and NaN resolve the same). A row with
// row_count 0 is left alone.
struct PoolPlane {
  const float* x;
  long w, out_h, out_w;
  int kh, kw, stride_w, pad_w, dil_h, dil_w;
  long col_begin, col_end;
  const long* row_first;
  const int* row_count;
  float* y;
};

struct PoolRows {
  // y = clamp(max over the window), a later tap winning only if greater or NaN; with clamp, as
  // ReLU: v > lo ? v : lo, then v < hi ? v : hi. idx, when not null (out_h×out_w), gets the
  // winner's flat plane position (the first tap's when nothing beats -inf).
  void (*max_plane)(const PoolPlane& p, bool clamp, float lo, float hi, float* idx);
  // y = (0 + every tap in order) / divisor[oh], as the reference sums.
  void (*sum_plane)(const PoolPlane& p, const float* divisor);
  // Global average pooling of `planes` planes of `size` floats: y[i] = (0 + x[i·size] + ... +
  // x[i·size + size - 1]) / size, each plane summed in order (the reference's), L planes a vector.
  void (*plane_means)(const float* x, long planes, long size, float* y);
  // max_plane's values without argmax (dilation 1) in two passes: the window maxima of each of the
  // plane's h input rows into scratch (h × max(out_w, 16) floats), then each output row as the maximum over
  // its window's rows there (row_first, row_count), clamped as max_plane clamps.
  void (*max_plane_separable)(const PoolPlane& p, long h, float* scratch, bool clamp, float lo, float hi);
  // One h×w plane's dx from a max pool whose every output (ph, pw) of oh×ow (2·oh <= h, 2·ow <= w)
  // has its index in the 2×2 window at (2ph, 2pw) (or -1: none): that place gets 0 + dy (0 where
  // y, when not null, is not above 0: ReLU's mask), every other place 0; max_pool_backward's
  // values. False (dx written but wrong) if some index lies outside its window.
  bool (*max_pairs_backward)(const float* dy, const float* idx, const float* y, long h, long w, long oh, long ow, float* dx);
};

extern const PoolRows pool_rows_portable;
#if defined(CNN_X86)
extern const PoolRows pool_rows_avx2;
extern const PoolRows pool_rows_avx512;
#endif

const PoolRows& pool_rows_for(Isa isa);

}  // namespace cnn
