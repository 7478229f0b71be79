// 3×3 convolutions of padding 1 on small maps (output rows of at most 8 pixels: DenseNet's and
// ResNet's late layers at 32×32, ResNet-50's last stage at 224; RegNet's grouped layers, stride 1
// and 2) with the output channels in
// the vector lanes: each tile is one output row of a few images, every pixel an accumulator per
// block of channels, each input value broadcast once per tap to all of them (lanes_rows.h). The
// taps a pixel would read from the padding are skipped rather than multiplied by zeros, and no
// lanes are spent on the padding columns, where the grid's rows of 6 or 10 columns waste both.
#pragma once
#include "conv/conv.h"

namespace cnn {

// Whether the loops take p's shape (forward pass, 3×3, dilation 1, padding 1 each side, output
// rows of 1-8 pixels; stride 1, or 2 on an even map; ungrouped, or groups of whole blocks of output
// channels on the active ISA, each block then reading its own group's input channels). Their input
// gradient takes ungrouped stride-1 layers only.
bool conv_lanes_fits(const Conv2dParams& p);
// Whether Auto takes them: where they measured faster than the paths that would run instead.
bool conv_lanes_wins(const Conv2dParams& p, int threads);
// The bias and the epilogue applied as each tile is stored. False, having done nothing, where p does not fit.
// reordered: w as conv_lanes_reorder lays it out (eval's cache), used where it was laid out for the
// active ISA; else (or null) the call reorders w itself.
bool conv2d_forward_lanes(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y, int threads,
                          const ConvEpilogue& e = {}, const float* reordered = nullptr);
// Floats of w reordered for the loops on the active ISA (its channel blocks, then a tag naming the
// ISA), and the reordering; p must fit (conv_lanes_fits).
long conv_lanes_weights_floats(const Conv2dParams& p);
void conv_lanes_reorder(const Conv2dParams& p, const float* w, float* out, int threads);
// p's input gradient as the forward pass it is (input_grad_as_forward: dy convolved with the
// kernel turned around, in and out swapped). False, having done nothing, where that pass does not fit.
bool conv2d_backward_input_lanes(const Conv2dParams& p, const float* dy, const float* w, float* dx, int threads);

}  // namespace cnn
