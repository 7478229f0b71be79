// Stride-1 convolution computed directly on the zero-padded image, for few output channels.
// Output pixel (oh, ow) sits at grid column oh·Wp + ow and its tap (c, ki, kj) at that column
// plus c·Hp·Wp + ki·dil·Wp + kj·dil (as in conv_grid.h), so the vector loops (direct_rows.h) keep
// a block of output channels × grid columns in registers and read each tap as one unit-stride
// run: no im2col and no GEMM packing. A GEMM with the channels as its rows runs a 12×32 (6×16)
// tile half empty for LeNet's 6, and packs as many floats as it multiplies for its 5×5 taps;
// up to 32 channels the packing still costs more than the direct loops' broadcasts.
// The Wp − OW grid columns past each output row are computed and dropped (the weight gradient
// gives them dy = 0, so an infinite input there can make a NaN where PyTorch's stays finite).
#pragma once
#include <vector>

#include "conv/conv.h"

namespace cnn {

// Whether the direct loops suit the pass: stride 1, few channels in the product's rows (output
// channels; input channels for the input gradient), at most half the grid dropped. Each entry
// point returns false, having done nothing, where not.
bool conv_direct_suits(const Conv2dParams& p, ConvPass pass, int threads);
// The bias and the epilogue applied as the output leaves the grid.
bool conv2d_forward_direct(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                           int threads, const ConvEpilogue& e = {});
// The forward pass clamped to [lo, hi] (ReLU: 0, ∞), then max-pooled 2×2 with stride 2 (an odd
// last row or column dropped, as PyTorch's floor mode) into y (N × Cout × OH/2 × OW/2) as each
// block leaves the grid: eval's conv → ReLU → MaxPool2d without storing or re-reading the
// unpooled output. Where idx is not null, each maximum's flat position in its OH × OW plane (as
// max_pool2d's indices, for training's backward). Only where conv2d_forward would take the direct path.
bool conv2d_forward_direct_max_pool(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                                    int threads, float lo, float hi, float* idx = nullptr);
// dx as the forward direct convolution of dy with the flipped, transposed weights.
bool conv2d_backward_input_direct(const Conv2dParams& p, const float* dy, const float* w, float* dx,
                                  int threads);
// dW only; the bias gradient is the caller's.
bool conv2d_backward_weight_direct(const Conv2dParams& p, const float* x, const float* dy, float* dw,
                                   int threads);

// How the direct loops lay out a pass: the zero-padded planes (Hp × Wp, adjacent rows sharing
// their padding columns) and items of whole output rows.
struct DirectPlan {
  int Hp, Wp, OH, OW, cig, cog, K;
  long plane;
  int rows;    // output rows per item
  int blocks;  // items per image and group
  long items;
};

// A forward pass (p.n ignored) prepared once for running image by image on the calling thread,
// inside a parallel region of the caller's (small_net.h): the plan, the tap offsets and the
// weights reordered once per call, not per image, and no parallel region or barrier per layer.
struct DirectImageConv {
  Conv2dParams p;  // n == 1
  DirectPlan g;
  const float* bias;
  bool pooled;     // clamped, then max-pooled 2×2 stride 2 (floor mode) as it leaves the grid
  ConvEpilogue e;  // the clamp
  std::vector<long> off;
  std::vector<float> wt;
  // Pooled without padding where channels in the lanes take fewer vector products than the
  // grid (DirectRows::pooled_channels): the weights and bias padded to cp channels.
  int cp = 0;
  std::vector<float> wl, bl;
  // Pooled without padding where the four pooling phases in registers take fewer vector
  // products (DirectRows::pooled_phases): each phase's tap offsets into the phase planes of
  // rows × pw floats, dcs column shifts.
  bool phases = false;
  int rows = 0, dcs = 0;
  std::vector<long> phase_off;
};
// False, c unusable, where the direct loops would not take p one image at a time.
bool direct_image_conv_prepare(const Conv2dParams& p, const float* w, const float* b, float lo, float hi, bool pooled,
                               DirectImageConv* c);
// Floats of one image's output (pooled or not).
long direct_image_conv_out_floats(const DirectImageConv& c);
// One image x (Cin × H × W) into y (its output), the same arithmetic as conv2d_forward_direct
// and conv2d_forward_direct_max_pool; pad_buf and out_buf are the calling thread's scratch.
void direct_image_conv_run(const DirectImageConv& c, const float* x, float* y, std::vector<float>& pad_buf,
                           std::vector<float>& out_buf);

}  // namespace cnn
