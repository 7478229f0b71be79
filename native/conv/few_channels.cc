// Items are an image's band of output rows (whole images unless the batch is smaller than two
// items a thread). Per item, on one thread: the input rows the band reads go, zero-padded, into
// sw column phases per channel (padded column c at phase c mod sw, position c / sw, each phase row
// with a vector's slack of zeros after it), then each output row is one call of the vector loops
// with a pointer per tap (channel, ki, kj) into those phase rows.
#include "conv/few_channels.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "conv/few_channel_rows.h"
#include "conv/work.h"

namespace cnn {

namespace {

// Taps: a 7×7 stem of up to four channels (more taps only lengthen the loop over them; the register
// blocks stay the same).
constexpr int kMaxChannels = 4, kMaxTaps = 196;
// Output channels from which Auto takes these loops (few_channels_wins).
constexpr int kMinOutChannels = 16;

struct Layout {
  int Hp, Wq, Wqp, OH, OW, taps;
  long plane() const { return (long)Hp * Wqp; }  // floats of one channel's phase
};

Layout layout(const Conv2dParams& p, int lanes) {
  Layout l;
  l.Hp = p.h + p.pad_t + p.pad_b;
  l.Wq = (p.w + p.pad_l + p.pad_r + p.stride_w - 1) / p.stride_w;
  l.Wqp = l.Wq + lanes;  // the loops read up to a vector past the last output's taps
  l.OH = p.out_h(), l.OW = p.out_w();
  l.taps = p.c_in * p.kh * p.kw;
  return l;
}

// Input rows [ih0, ih1) of image i into the phases (only pixels: the padding stays zero).
template <class Stride>
void fill_rows(const Conv2dParams& p, const Layout& l, const float* x, int i, int ih0, int ih1, Stride sw, float* buf) {
  for (int ci = 0; ci < p.c_in; ++ci)
    for (int ih = ih0; ih < ih1; ++ih) {
      const float* __restrict src = x + (((long)i * p.c_in + ci) * p.h + ih) * p.w;
      for (int b = 0; b < sw; ++b) {
        const int iw0 = ((b - p.pad_l) % sw + sw) % sw;  // first iw whose padded column is in phase b
        if (iw0 >= p.w) continue;
        float* __restrict d = buf + ((long)ci * sw + b) * l.plane() + (long)(ih + p.pad_t) * l.Wqp + (iw0 + p.pad_l) / sw;
        const int cols = (p.w - 1 - iw0) / sw + 1;
        for (int k = 0; k < cols; ++k) d[k] = src[iw0 + (long)k * sw];
      }
    }
}

}  // namespace

bool few_channels_suits(const Conv2dParams& p) {
  return p.groups == 1 && p.c_in <= kMaxChannels && p.c_in * p.kh * p.kw <= kMaxTaps && p.out_h() > 0 && p.out_w() > 0;
}

bool few_channels_short_patches(const Conv2dParams& p) {
  const bool patches = p.stride_h >= p.kh && p.stride_w >= p.kw && p.dil_h == 1 && p.dil_w == 1;
  return few_channels_suits(p) && p.c_out >= kMinOutChannels && patches && p.out_w() < few_channel_rows_for(active_isa()).lanes;
}

bool few_channels_wins(const Conv2dParams& p) {
  return few_channels_suits(p) && p.c_out >= kMinOutChannels && !few_channels_short_patches(p);
}

bool conv2d_forward_few_channels(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                                 int threads, const ConvEpilogue& e) {
  if (!few_channels_suits(p)) return false;
  const FewChannelRows& K = few_channel_rows_for(active_isa());
  const Layout l = layout(p, K.lanes);
  const int bands = std::min(l.OH, std::max(1, (2 * threads + p.n - 1) / p.n));
  const int rows = (l.OH + bands - 1) / bands;
  const long items = (long)p.n * bands, floats = (long)p.c_in * p.stride_w * l.plane(), OHW = (long)l.OH * l.OW;
#pragma omp parallel num_threads(threads) if (threads > 1 && items > 1)
  {
    thread_local std::vector<float> buf_v;
    thread_local std::vector<const float*> src_v;
    float* buf = grow(buf_v, floats);
    // The padding and slack; items write only pixels, and a band reads only the rows it wrote.
    std::memset(buf, 0, sizeof(float) * floats);
    src_v.resize(l.taps);
    const float** src = src_v.data();
#pragma omp for schedule(dynamic)
    for (long it = 0; it < items; ++it) {
      const int i = (int)(it / bands), o0 = (int)(it % bands) * rows, o1 = std::min(l.OH, o0 + rows);
      if (o0 >= o1) continue;
      // The input rows the band reads (padded rows o0·sh .. (o1-1)·sh + (kh-1)·dh).
      const int ih0 = std::max(0, o0 * p.stride_h - p.pad_t);
      const int ih1 = std::min(p.h, (o1 - 1) * p.stride_h + (p.kh - 1) * p.dil_h - p.pad_t + 1);
      if (p.stride_w == 1) fill_rows(p, l, x, i, ih0, ih1, std::integral_constant<int, 1>(), buf);
      else if (p.stride_w == 2) fill_rows(p, l, x, i, ih0, ih1, std::integral_constant<int, 2>(), buf);
      else fill_rows(p, l, x, i, ih0, ih1, p.stride_w, buf);
      // Every output row of the band in one call: row oh's taps sit sh phase rows after row oh-1's.
      int t = 0;
      for (int ci = 0; ci < p.c_in; ++ci)
        for (int ki = 0; ki < p.kh; ++ki)
          for (int kj = 0; kj < p.kw; ++kj, ++t) {
            const int dw = kj * p.dil_w;
            src[t] = buf + ((long)ci * p.stride_w + dw % p.stride_w) * l.plane() + (long)(o0 * p.stride_h + ki * p.dil_h) * l.Wqp +
                     dw / p.stride_w;
          }
      const long at = (long)i * p.c_out * OHW + (long)o0 * l.OW;
      K.rows(l.OW, o1 - o0, (long)p.stride_h * l.Wqp, l.OW, p.c_out, l.taps, src, w, b, e.lo, e.hi,
             e.residual ? e.residual + at : nullptr, OHW, y + at);
    }
  }
  return true;
}

}  // namespace cnn
