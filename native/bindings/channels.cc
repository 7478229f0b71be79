// Bindings for native/eltwise/channels: per-channel scaling, row copies (concatenation) and
// batched transposes (NCHW <-> NHWC).
#include <napi.h>

#include <cmath>

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

// call {outer, c, inner, perSample, x, s, ...}: x is (outer, c, inner), s holds one factor per
// channel, or per sample and channel.
struct ScaleCall {
  ScaleShape sh;
  Fields f;
  const float *x, *s;
};

ScaleCall read_scale(const Args& a) {
  const Fields f = a.object(0, "call");
  ScaleShape sh{f.integer("outer", 1, kMaxIndex), f.integer("c", 1, kMaxIndex), f.integer("inner", 1, kMaxIndex),
                f.boolean("perSample")};
  if (sh.outer * sh.c > kMaxIndex || sh.total() > ((int64_t)1 << 36)) a.range_error("tensor is too large");
  return {sh, f, f.floats("x", sh.total()), f.floats("s", sh.factors())};
}

// (call {x, s, outer, c, inner, perSample, y}, threads)
Napi::Value ChannelScaleForward(const Args& a) {
  a.expect_count(2);
  const ScaleCall k = read_scale(a);
  float* y = k.f.floats("y", k.sh.total());
  cnn::channel_scale_forward(k.x, k.s, y, k.sh.outer, k.sh.c, k.sh.inner, k.sh.per_sample, a.threads(1));
  return a.undefined();
}

// (call {x, s, dy, outer, c, inner, perSample, dx|null, ds|null}, threads)
Napi::Value ChannelScaleBackward(const Args& a) {
  a.expect_count(2);
  const ScaleCall k = read_scale(a);
  const float* dy = k.f.floats("dy", k.sh.total());
  float* dx = k.f.floats_or_null("dx", k.sh.total());
  float* ds = k.f.floats_or_null("ds", k.sh.factors());
  cnn::channel_scale_backward(k.x, k.s, dy, dx, ds, k.sh.outer, k.sh.c, k.sh.inner, k.sh.per_sample, a.threads(1));
  return a.undefined();
}

// (params {srcOffset, srcStride, dstOffset, dstStride, block, count}, src, dst, threads): count
// rows of block floats from src[srcOffset + r·srcStride] to dst[dstOffset + r·dstStride].
Napi::Value CopyRows(const Args& a) {
  a.expect_count(4);
  const Fields f = a.object(0, "params");
  const int64_t block = f.integer("block", 0, kMaxIndex), count = f.integer("count", 0, kMaxIndex);
  const int64_t so = f.integer("srcOffset", 0, kMaxIndex), ss = f.integer("srcStride", block, kMaxIndex);
  const int64_t dofs = f.integer("dstOffset", 0, kMaxIndex), ds = f.integer("dstStride", block, kMaxIndex);
  // The last row ends at offset + (count - 1)·stride + block.
  auto span = [&](int64_t off, int64_t stride) { return count == 0 || block == 0 ? 0 : off + (count - 1) * stride + block; };
  const float* src = a.floats(1, "src", span(so, ss), false);
  float* dst = a.floats(2, "dst", span(dofs, ds), false);
  if (count > 0 && block > 0) cnn::copy_rows(src + so, ss, dst + dofs, ds, block, count, a.threads(3));
  return a.undefined();
}

// (params, src, dst, scale, shift, threads): copyRows of rows that are `channels` planes of
// `inner` floats, each mapped to clamp(v·scale[c] + shift[c]) (params.clamp [lo, hi], default none).
Napi::Value CopyRowsAffine(const Args& a) {
  a.expect_count(6);
  const Fields f = a.object(0, "params");
  const int64_t channels = f.integer("channels", 1, kMaxIndex), inner = f.integer("inner", 1, kMaxIndex);
  const int64_t count = f.integer("count", 0, kMaxIndex);
  a.check_size({channels, inner}, "params.channels × params.inner", kMaxIndex);
  const int64_t block = channels * inner;
  const int64_t so = f.integer("srcOffset", 0, kMaxIndex), ss = f.integer("srcStride", block, kMaxIndex);
  const int64_t dofs = f.integer("dstOffset", 0, kMaxIndex), ds = f.integer("dstStride", block, kMaxIndex);
  double clamp[2] = {-INFINITY, INFINITY};
  if (f.present("clamp")) f.range("clamp", -INFINITY, INFINITY, clamp);
  auto span = [&](int64_t off, int64_t stride) { return count == 0 ? 0 : off + (count - 1) * stride + block; };
  const float* src = a.floats(1, "src", span(so, ss), false);
  float* dst = a.floats(2, "dst", span(dofs, ds), false);
  const float* scale = a.floats(3, "scale", channels);
  const float* shift = a.floats(4, "shift", channels);
  if (count > 0) cnn::copy_rows_affine(src + so, ss, dst + dofs, ds, channels, inner, count, scale, shift, (float)clamp[0], (float)clamp[1], a.threads(5));
  return a.undefined();
}

// ({count, channels, h, w, clamp: [lo, hi]}, x, scale, shift, y, threads): y (count × channels × ⌊h/2⌋ × ⌊w/2⌋)
// = AvgPool2d(2) of clamp(x·scale[c] + shift[c]) (affine_avg_pool_2x2; clamp default none).
Napi::Value AffineAvgPool2x2(const Args& a) {
  a.expect_count(6);
  const Fields f = a.object(0, "params");
  const int64_t count = f.integer("count", 0, kMaxIndex), channels = f.integer("channels", 1, kMaxIndex);
  const int64_t h = f.integer("h", 2, kMaxIndex), w = f.integer("w", 2, kMaxIndex);
  a.check_size({count, channels, h, w}, "x size");
  double clamp[2] = {-INFINITY, INFINITY};
  if (f.present("clamp")) f.range("clamp", -INFINITY, INFINITY, clamp);
  const float* x = a.floats(1, "x", count * channels * h * w);
  const float* scale = a.floats(2, "scale", channels);
  const float* shift = a.floats(3, "shift", channels);
  float* y = a.floats(4, "y", count * channels * (h / 2) * (w / 2));
  cnn::affine_avg_pool_2x2(x, count, channels, h, w, scale, shift, (float)clamp[0], (float)clamp[1], y, a.threads(5));
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
    {"copyRowsAffine", CopyRowsAffine},
    {"affineAvgPool2x2", AffineAvgPool2x2},
    {"transposeBatched", TransposeBatched},
});

}  // namespace
