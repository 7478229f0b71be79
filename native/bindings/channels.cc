// Bindings for native/eltwise/channels: per-channel scaling, row copies (concatenation) and
// batched transposes (NCHW <-> NHWC).
#include <napi.h>

#include "bindings/registry.h"
#include "eltwise/channels.h"

namespace {

using namespace cnn_binding;

struct ScaleShape {
  int64_t outer, c, inner;
  bool per_sample;
  int64_t total() const { return outer * c * inner; }
  int64_t factors() const { return per_sample ? outer * c : c; }
};

ScaleShape read_scale_shape(const Args& a, size_t i) {
  ScaleShape s{a.integer(i, "outer", 1, kMaxIndex), a.integer(i + 1, "c", 1, kMaxIndex),
               a.integer(i + 2, "inner", 1, kMaxIndex), a.boolean(i + 3, "perSample")};
  if (s.outer * s.c > kMaxIndex || s.total() > ((int64_t)1 << 36)) a.range_error("tensor is too large");
  return s;
}

// (x, s, outer, c, inner, perSample, y, threads)
Napi::Value ChannelScaleForward(const Args& a) {
  a.expect_count(8);
  const ScaleShape sh = read_scale_shape(a, 2);
  const float* x = a.floats(0, "x", sh.total());
  const float* s = a.floats(1, "s", sh.factors());
  float* y = a.floats(6, "y", sh.total());
  cnn::channel_scale_forward(x, s, y, sh.outer, sh.c, sh.inner, sh.per_sample, a.threads(7));
  return a.undefined();
}

// (x, s, dy, outer, c, inner, perSample, dx|null, ds|null, threads)
Napi::Value ChannelScaleBackward(const Args& a) {
  a.expect_count(10);
  const ScaleShape sh = read_scale_shape(a, 3);
  const float* x = a.floats(0, "x", sh.total());
  const float* s = a.floats(1, "s", sh.factors());
  const float* dy = a.floats(2, "dy", sh.total());
  float* dx = a.floats_or_null(7, "dx", sh.total());
  float* ds = a.floats_or_null(8, "ds", sh.factors());
  cnn::channel_scale_backward(x, s, dy, dx, ds, sh.outer, sh.c, sh.inner, sh.per_sample, a.threads(9));
  return a.undefined();
}

// (src, srcOffset, srcStride, dst, dstOffset, dstStride, block, count, threads)
Napi::Value CopyRows(const Args& a) {
  a.expect_count(9);
  const int64_t block = a.integer(6, "block", 0, kMaxIndex), count = a.integer(7, "count", 0, kMaxIndex);
  const int64_t so = a.integer(1, "srcOffset", 0, kMaxIndex), ss = a.integer(2, "srcStride", block, kMaxIndex);
  const int64_t dofs = a.integer(4, "dstOffset", 0, kMaxIndex), ds = a.integer(5, "dstStride", block, kMaxIndex);
  // The last row ends at offset + (count - 1)·stride + block.
  auto span = [&](int64_t off, int64_t stride) { return count == 0 || block == 0 ? 0 : off + (count - 1) * stride + block; };
  const float* src = a.floats(0, "src", span(so, ss), false);
  float* dst = a.floats(3, "dst", span(dofs, ds), false);
  if (count > 0 && block > 0) cnn::copy_rows(src + so, ss, dst + dofs, ds, block, count, a.threads(8));
  return a.undefined();
}

// (x, batch, rows, cols, y, threads): y[b, j, i] = x[b, i, j]
Napi::Value TransposeBatched(const Args& a) {
  a.expect_count(6);
  const int64_t b = a.integer(1, "batch", 0, kMaxIndex), r = a.integer(2, "rows", 0, kMaxIndex),
                c = a.integer(3, "cols", 0, kMaxIndex);
  if (b * r > kMaxIndex || b * r * c > ((int64_t)1 << 36)) a.range_error("tensor is too large");
  const float* x = a.floats(0, "x", b * r * c);
  float* y = a.floats(4, "y", b * r * c);
  cnn::transpose_batched(x, y, b, r, c, a.threads(5));
  return a.undefined();
}

const Registration rows({
    {"channelScaleForward", ChannelScaleForward},
    {"channelScaleBackward", ChannelScaleBackward},
    {"copyRows", CopyRows},
    {"transposeBatched", TransposeBatched},
});

}  // namespace
