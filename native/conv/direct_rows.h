// The vector loops of the direct convolution (conv_direct.h), one set per ISA. Both run over
// grid columns of a zero-padded image: tap t of grid column j reads src[off[t] + j], so every
// tap is a unit-stride run and the loops never see padding, strides or channels.
#pragma once
#include "cpu/cpu.h"

namespace cnn {

struct DirectRows {
  int lanes;  // floats per vector: grid runs are processed in whole vectors
  // out[co·ldo + j] = clamp(bias[co] + Σ_t w[t·cog + co] · src[off[t] + j], lo, hi) for co < cog,
  // j < n rounded up to whole vectors (src readable that far; out holds the rounded run); bias
  // may be null. NaN passes through the clamp.
  void (*forward)(long n, int cog, int taps, const float* w, const float* bias, float lo, float hi, const float* src,
                  const long* off, float* out, long ldo);
  // acc[(co·ldw + t)·lanes + l] += Σ_i Σ_j dy[i·dy_image + co·ldy + j] · src[i·src_image + off[t] + j]
  // over images i < images and the j in lane l, for co < cog, t < taps, j < n rounded up to whole
  // vectors (dy zero past n): sums kept a vector each and a block of them in registers across a
  // run of images, so that small images pay neither a horizontal sum nor a reload per weight.
  void (*weight_grad)(long n, int images, int cog, int taps, const float* dy, long ldy, long dy_image,
                      const float* src, long src_image, const long* off, float* acc, long ldw);
  // The 2×2 stride-2 max pool of `rows` pairs of rows of `channels` planes: pair r of channel c is
  // r0 = src + c·ldc + 2r·ld and r1 = r0 + ld (2·pw floats each), pooled into out[c·out_plane +
  // r·pw + q] for q < pw with the max pool kernel's fold (a later value wins if greater or NaN) in
  // window order r0[2q], r0[2q+1], r1[2q], r1[2q+1]. Where idx is not null, it gets the winner's
  // position in its plane of rows ow wide (pos0 the first pair's: + 2r·ow + 2q, + 1 for the odd
  // column, + ow for r1).
  void (*max_pool_pairs)(const float* src, long ldc, long ld, int channels, int rows, long pw, float* out,
                         long out_plane, float* idx, float pos0, float ow);
  // Channels in the lanes, for few pixels and many channels (LeNet's second layer: 16 channels,
  // 8×8 pixels, where the grid's vectors of 12-column rows ran a third empty): for the ph × pw
  // pooling windows, window (r, q)'s top-left pixel at grid column 2r·ld + 2q, out[(r·pw + q)·ldo
  // + co] = the 2×2 max pool (max_pool_pairs' fold and window order) of clamp(bias[co] + Σ_t
  // w[t·cp + co] · src[off[t] + pixel], lo, hi) over the window's pixels, for co < cp, a whole
  // number of vectors (w and bias, which may be null, padded with zeros to it). Per pixel the
  // same sums in the same order as forward: the same bits.
  void (*pooled_channels)(int ph, int pw, long ld, int cp, int taps, const float* w, const float* bias, float lo, float hi,
                          const float* src, const long* off, float* out, long ldo);
  // The four 2×2 pooling phases of an unpadded image as planes: out[(((c·2 + a)·2 + b)·dcs + dc)
  // · rows·pw + r·pw + q] = x[c][2r + a][2(q + dc) + b] (zero past the image), for c < channels,
  // r < rows, q < pw, dc < dcs. Output pixel (2i + a, 2j + b)'s tap (ki, kj) then sits at pooled
  // lane i·pw + j of one of them, dc = (b + kj) / 2 and (a + ki) / 2 rows down: a unit-stride run.
  void (*phase_planes)(const float* x, int channels, int h, int w, int rows, int pw, int dcs, float* out);
  // Few output channels pooled in registers, no lane computed and dropped (LeNet's first layer:
  // 6 channels on 24-column rows, where the grid dropped 4 of every 28 columns and pooled in a
  // second pass): out[co·ldo + j] for co < cog, j < pp rounded up to whole vectors = the 2×2 max
  // pool (max_pool_pairs' fold and window order) over phases k < 4 of clamp(bias[co] + Σ_t
  // w[t·cog + co] · planes[off[4t + k] + j], lo, hi). Per pixel the same sums in the same
  // order as forward: the same bits. planes readable a vector past the last run.
  void (*pooled_phases)(long pp, int cog, int taps, const float* w, const float* bias, float lo, float hi, const float* planes,
                        const long* off, float* out, long ldo);
};

extern const DirectRows direct_rows_portable;
#if defined(CNN_X86)
extern const DirectRows direct_rows_avx2;
extern const DirectRows direct_rows_avx512;
#endif

const DirectRows& direct_rows_for(Isa isa);

}  // namespace cnn
