// Stride-1 convolution without im2col. On the zero-padded image (Hp × Wp per channel), output
// pixel (oh, ow) sits at grid column oh·Wp + ow and its tap (c, ki, kj) at that column plus
// c·Hp·Wp + ki·dil·Wp + kj·dil; so every row of the column matrix is the padded image itself at
// a shifted offset, and the GEMM packs its panels straight from those rows: the forward pass
// packs each output row's OW columns and skips the padding; the weight gradient computes the
// Wp − OW grid columns past each output row and drops them.
#pragma once
#include "conv/conv.h"

namespace cnn {

// Whether the grid suits the shape: stride 1, not 1×1, narrow padding, images large enough,
// enough items for the threads. Each entry point returns false, having done nothing, where not.
bool conv_grid_suits(const Conv2dParams& p, ConvPass pass, int threads);
// The epilogue applied as the output leaves the grid.
// packed: w packed by conv2d_pack_weights (eval's cache), or null to pack it in the call.
bool conv2d_forward_grid(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                         int threads, const ConvEpilogue& e = {}, const float* packed = nullptr);
// dx as the forward grid convolution of dy with the flipped, transposed weights.
bool conv2d_backward_input_grid(const Conv2dParams& p, const float* dy, const float* w, float* dx,
                                int threads);
// The batched path's stride-1 forward pass without im2col: a chunk of images padded with their
// rows interleaved (one grid, as the grid's runs), one threaded GEMM over it whose B panels are
// gathered from the padded rows (where the ISA gathers them: AVX-512), then each output row of
// OW to its image through the epilogue. False, having done nothing, where it does not suit.
bool conv2d_forward_grid_batched(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                                 int threads, const ConvEpilogue& e = {});
// The batched path's stride-1 weight gradient without im2col: each chunk of images padded as
// for the forward pass above, dY gathered in its grid's column order, and one threaded GEMM,
// dW += dY · (tap rows)ᵀ, packing its B panels straight from the padded rows. dW only; false,
// having done nothing, where it does not suit (stride 1, not 1×1, more than one output pixel).
// chunk_floats: padded floats per chunk (0: the batched path's budget; tests take several chunks).
bool conv2d_backward_weight_grid_batched(const Conv2dParams& p, const float* x, const float* dy, float* dw, int threads,
                                         long chunk_floats = 0);
bool conv_grid_batched_weight_suits(const Conv2dParams& p);
// Where it beats by-image's runs: weights above 4 MB, which by-image streams into a per-thread sum
// run after run (1 thread, 512 channels on 7×7 maps at batch 8-32: 93-98 GFLOP/s against 84-90;
// 256 channels stay by-image, level or ahead).
bool conv_grid_batched_weight_wins(const Conv2dParams& p);
// dW only; the bias gradient is the caller's.
bool conv2d_backward_weight_grid(const Conv2dParams& p, const float* x, const float* dy, float* dw,
                                 int threads);

}  // namespace cnn
