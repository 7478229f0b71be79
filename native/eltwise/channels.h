// Channel-wise data movement and scaling on (outer, c, inner) layouts: squeeze-and-excitation
// and layer scale (per-channel factors), DenseNet's concatenation, ConvNeXt's NCHW <-> NHWC.
#pragma once
#include <cstdint>

namespace cnn {

// y[o, j, i] = x[o, j, i]·s[k] with k = o·c + j when per_sample (s holds outer·c factors, as
// SE's (N, C, 1, 1)), else k = j (s holds c factors, as layer scale's (C, 1, 1)).
void channel_scale_forward(const float* x, const float* s, float* y, int64_t outer, int64_t c,
                           int64_t inner, bool per_sample, int threads);
// dx = dy·s (dx may be null); ds[k] = Σ dy·x over the positions that factor k scaled (ds may
// be null; overwritten, not accumulated into).
void channel_scale_backward(const float* x, const float* s, const float* dy, float* dx, float* ds,
                            int64_t outer, int64_t c, int64_t inner, bool per_sample, int threads);

// count rows of `block` floats: dst[r·dst_stride + k] = src[r·src_stride + k]. Concatenation
// along an axis writes each input as rows into the output; its backward reads them back.
void copy_rows(const float* src, int64_t src_stride, float* dst, int64_t dst_stride,
               int64_t block, int64_t count, int threads);

// copy_rows whose rows are `channels` planes of `inner` floats, each value mapped to
// clamp(v·scale[c] + shift[c], lo, hi) on the way: DenseNet's concatenation with eval BatchNorm →
// ReLU applied as it gathers, the raw concatenation never stored.
void copy_rows_affine(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t channels,
                      int64_t inner, int64_t count, const float* scale, const float* shift, float lo, float hi,
                      int threads);

// y (planes of ⌊h/2⌋ × ⌊w/2⌋) = the 2×2 stride-2 averages of clamp(v·scale[c] + shift[c], lo, hi) over
// x's planes (count images of `channels` planes of h × w; plane c of an image mapped by channel c's
// factors), each window summed row by row as AvgPool2d sums, then divided by 4: eval's BatchNorm →
// ReLU → AvgPool2d(2) in one pass (DenseNet's transitions, whose 1×1 convolution then runs on a
// quarter of the pixels: pooling and a 1×1 convolution commute).
void affine_avg_pool_2x2(const float* x, int64_t count, int64_t channels, int64_t h, int64_t w, const float* scale,
                         const float* shift, float lo, float hi, float* y, int threads);

// y[b, j, i] = x[b, i, j] for x (batch, rows, cols): NCHW -> NHWC is (N, C, H·W) -> (N, H·W, C).
void transpose_batched(const float* x, float* y, int64_t batch, int64_t rows, int64_t cols, int threads);

}  // namespace cnn
