// The forward pass of convolutions with few input channels (a network's stem: 3 colour channels,
// 3×3, stride 2) as direct loops: as a GEMM its depth is only Cin·kh·kw (27), too shallow to pay
// for packing both factors and for the tile's loads and stores, while here each output row is
// computed in vector registers for a block of output channels, every input vector loaded once
// for the whole block (few_channel_rows.h). Each image's padded input is laid out as column stride
// phases, so every tap of every stride reads a contiguous run; output rows are written in place,
// through bias, residual and clamp.
#pragma once
#include "conv/conv.h"

namespace cnn {

// Ungrouped, at most 4 input channels and 196 taps (Cin·kh·kw: four channels of 7×7).
bool few_channels_suits(const Conv2dParams& p);
// Whether the shape choice (Auto) takes it for a forward pass, ahead of the direct path: from 16
// output channels, but not few_channels_short_patches (2 threads, 3 input channels, against the
// path taken before: 3×3 stride 2 on 32×32 to 16 and 32 channels 1.4-1.6x, on 224×224 1.6x;
// stride 1 to 64 channels 1.6x the grid path, to 32 channels 1.4x the direct loops; ResNet's and
// DenseNet's 7×7 stride-2 stem to 64 channels, 147 taps, against by-image's GEMM on AVX-512 1.13x
// at 32×32 and 1.34x at 224×224, with the AVX2 kernels 1.6x and 1.25x).
bool few_channels_wins(const Conv2dParams& p);
// A forward pass of 16+ output channels these loops suit but lose: patches that do not overlap
// (ConvNeXt's 4×4 stride-4 stem) on rows shorter than a vector, where the columns are a plain
// re-layout and the GEMM wins (AVX-512, 64 × 3 → 96 on 32×32, 2 threads: 0.24 against these
// loops' 0.36 ms). Rows of a vector or more stay here (16 × 3 → 96 on 224×224: 2.5 against 3.8;
// AVX2 on 32×32: 0.34 against 0.42).
bool few_channels_short_patches(const Conv2dParams& p);
// False, touching nothing, where few_channels_suits(p) is false.
bool conv2d_forward_few_channels(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                                 int threads, const ConvEpilogue& e);

}  // namespace cnn
