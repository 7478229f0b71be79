// NCHW planes to channel-last rows, for the fused blocks that keep a run of pixels in cache
// channel-last (inverted_residual.h, convnext_mlp.h), and for by-image's transposed weight sums.
#pragma once

namespace cnn {

// dst[q·C + c] = src[c·plane + q] for q < pixels, c < C: blocks of 4 channels × 4 pixels turned
// by shuffles (one 4-float load and store each, where element copies stored one float per cache
// line), the channels and pixels short of a block one float at a time.
inline void transpose_planes(const float* src, long plane, int C, long pixels, float* dst) {
  typedef float Quad __attribute__((vector_size(16), aligned(4)));  // unaligned loads and stores
  typedef int QuadIndex __attribute__((vector_size(16)));
  const QuadIndex lo{0, 4, 1, 5}, hi{2, 6, 3, 7}, first{0, 1, 4, 5}, second{2, 3, 6, 7};
  long q = 0;
  for (; q + 4 <= pixels; q += 4) {
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      const float* s = src + c * plane + q;
      const Quad r0 = *(const Quad*)s, r1 = *(const Quad*)(s + plane), r2 = *(const Quad*)(s + 2 * plane),
                 r3 = *(const Quad*)(s + 3 * plane);
      const Quad t0 = __builtin_shuffle(r0, r1, lo), t1 = __builtin_shuffle(r0, r1, hi);
      const Quad t2 = __builtin_shuffle(r2, r3, lo), t3 = __builtin_shuffle(r2, r3, hi);
      float* d = dst + q * C + c;
      *(Quad*)d = __builtin_shuffle(t0, t2, first);
      *(Quad*)(d + C) = __builtin_shuffle(t0, t2, second);
      *(Quad*)(d + 2 * C) = __builtin_shuffle(t1, t3, first);
      *(Quad*)(d + 3 * C) = __builtin_shuffle(t1, t3, second);
    }
    for (; c < C; ++c)
      for (long j = q; j < q + 4; ++j) dst[j * C + c] = src[c * plane + j];
  }
  for (; q < pixels; ++q)
    for (int c = 0; c < C; ++c) dst[q * C + c] = src[c * plane + q];
}

}  // namespace cnn
