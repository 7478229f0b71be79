// Bindings for native/conv: the parameter object is checked once (groups, kernel against the
// padded input, sizes) and every buffer against the lengths it implies.
#include <napi.h>

#include <cmath>
#include <string>

#include "bindings/conv_geometry.h"
#include "bindings/registry.h"
#include "conv/conv.h"
#include "conv/conv_by_image.h"
#include "conv/conv_direct.h"
#include "conv/conv_lanes.h"
#include "conv/dense_map.h"
#include "conv/winograd.h"

namespace {

using namespace cnn_binding;

cnn::Conv2dParams read_conv(const Args& a, size_t i) { return read_conv_params(a, a.object(i, "params")); }

// The buffers each pass takes after params, in argument order; sizes are those of x, w, y or
// the bias, and a nullable one may be null.
enum class Size { X, W, Y, Bias };
struct Buffer {
  const char* name;
  Size size;
  bool nullable;
};
constexpr Buffer kForward[] = {{"x", Size::X, false}, {"w", Size::W, false}, {"b", Size::Bias, true}, {"y", Size::Y, false}};
constexpr Buffer kBackwardInput[] = {{"dy", Size::Y, false}, {"w", Size::W, false}, {"dx", Size::X, false}};
constexpr Buffer kBackwardWeight[] = {{"x", Size::X, false}, {"dy", Size::Y, false}, {"dw", Size::W, false}, {"db", Size::Bias, true}};

int64_t elements(const cnn::Conv2dParams& p, Size s) {
  switch (s) {
    case Size::X: return (int64_t)p.n * p.c_in * p.h * p.w;
    case Size::W: return (int64_t)p.c_out * (p.c_in / p.groups) * p.kh * p.kw;
    case Size::Y: return (int64_t)p.n * p.c_out * p.out_h() * p.out_w();
    case Size::Bias: return p.c_out;
  }
  return 0;
}

// (params, ...the pass's buffers[, threads]): the reference takes no thread count.
template <cnn::ConvPass Pass, bool Ref>
Napi::Value Convolution(const Args& a) {
  const Buffer* spec = Pass == cnn::ConvPass::Forward ? kForward : Pass == cnn::ConvPass::BackwardInput ? kBackwardInput : kBackwardWeight;
  const size_t count = Pass == cnn::ConvPass::BackwardInput ? 3 : 4;
  a.expect_count(1 + count + (Ref ? 0 : 1));
  const cnn::Conv2dParams p = read_conv(a, 0);
  float* buf[4];
  for (size_t i = 0; i < count; ++i)
    buf[i] = spec[i].nullable ? a.floats_or_null(1 + i, spec[i].name, elements(p, spec[i].size))
                              : a.floats(1 + i, spec[i].name, elements(p, spec[i].size));
  const int threads = Ref ? 1 : a.threads(1 + count);
  switch (Pass) {
    case cnn::ConvPass::Forward:
      if (Ref) {
        cnn::conv2d_ref_forward(p, buf[0], buf[1], buf[2], buf[3]);
      } else {
        // params.clamp [lo, hi] and params.residual (y's size): the epilogue of eval fusion.
        cnn::ConvEpilogue e;
        const Fields f = a.object(0, "params");
        if (f.present("clamp")) {
          double clamp[2];
          f.range("clamp", -INFINITY, INFINITY, clamp);
          e.lo = (float)clamp[0], e.hi = (float)clamp[1];
        }
        e.residual = f.floats_or_null("residual", elements(p, Size::Y));
        // params.winograd: w transformed by conv2dWinogradWeights (eval's cache), for Auto to take Winograd.
        const float* u = cnn::conv_winograd_fits(p) ? f.floats_or_null("winograd", cnn::winograd_weights_floats(p)) : nullptr;
        // params.denseMap: w made dense by conv2dDenseMapWeights (the training forward's, built once for both passes).
        const float* wd = cnn::conv_dense_map_fits(p) ? f.floats_or_null("denseMap", cnn::dense_map_weights_floats(p)) : nullptr;
        // params.denseMapPacked: w's dense map packed by conv2dDenseMapPack (eval's cache).
        const float* wdp = cnn::conv_dense_map_fits(p) ? f.floats_or_null("denseMapPacked", cnn::dense_map_packed_floats(p)) : nullptr;
        // params.packed: w packed by conv2dPackWeights (eval's cache) for a call that goes by image or the grid.
        const long packed_floats = cnn::conv2d_packed_weights_floats(p, threads);
        const float* packed = packed_floats > 0 ? f.floats_or_null("packed", packed_floats) : nullptr;
        // params.lanes: w reordered by conv2dLanesWeights (eval's cache) for the channels-in-lanes loops.
        const float* lanes = cnn::conv_lanes_fits(p) ? f.floats_or_null("lanes", cnn::conv_lanes_weights_floats(p)) : nullptr;
        cnn::conv2d_forward(p, buf[0], buf[1], buf[2], buf[3], threads, e, {u, wd, wdp, packed, lanes});
      }
      break;
    case cnn::ConvPass::BackwardInput:
      if (Ref) {
        cnn::conv2d_ref_backward_input(p, buf[0], buf[1], buf[2]);
      } else {
        // params.denseMap: w made dense by conv2dDenseMapWeights (the training forward's, built once for both passes).
        const float* wd = cnn::conv_dense_map_fits(p) ? a.object(0, "params").floats_or_null("denseMap", cnn::dense_map_weights_floats(p)) : nullptr;
        cnn::conv2d_backward_input(p, buf[0], buf[1], buf[2], threads, wd);
      }
      break;
    case cnn::ConvPass::BackwardWeight:
      if (Ref) cnn::conv2d_ref_backward_weight(p, buf[0], buf[1], buf[2], buf[3]);
      else cnn::conv2d_backward_weight(p, buf[0], buf[1], buf[2], buf[3], threads);
      break;
  }
  return a.undefined();
}

// (params, x, w, b, y, indices, threads) → whether it ran: the forward pass clamped to
// params.clamp [lo, hi] (default unclamped), then a 2×2 stride-2 max pool, into y (N × Cout ×
// ⌊OH/2⌋ × ⌊OW/2⌋) and, unless null, each maximum's flat OH × OW position into indices (y's
// size), where the direct path takes the convolution, or, without indices, Winograd with
// params.winograd (conv2dWinogradWeights, eval's cache); false, y untouched, elsewhere.
Napi::Value MaxPoolForward(const Args& a) {
  a.expect_count(7);
  const cnn::Conv2dParams p = read_conv(a, 0);
  const float* x = a.floats(1, "x", elements(p, Size::X));
  const float* w = a.floats(2, "w", elements(p, Size::W));
  const float* b = a.floats_or_null(3, "b", elements(p, Size::Bias));
  const int64_t pooled = (int64_t)p.n * p.c_out * (p.out_h() / 2) * (p.out_w() / 2);
  float* y = a.floats(4, "y", pooled);
  float* idx = a.floats_or_null(5, "indices", pooled);
  const int threads = a.threads(6);
  double clamp[2] = {-INFINITY, INFINITY};
  const Fields f = a.object(0, "params");
  if (f.present("clamp")) f.range("clamp", -INFINITY, INFINITY, clamp);
  const float* u = cnn::conv_winograd_fits(p) ? f.floats_or_null("winograd", cnn::winograd_weights_floats(p)) : nullptr;
  if (u && !idx && p.out_h() >= 2 && p.out_w() >= 2 &&
      cnn::conv2d_algo(p, cnn::ConvPass::Forward, threads, true) == cnn::ConvAlgo::Winograd) {
    cnn::conv2d_forward_winograd_max_pool(p, x, w, u, b, y, threads, (float)clamp[0], (float)clamp[1]);
    return Napi::Boolean::New(a.env(), true);
  }
  return Napi::Boolean::New(a.env(), cnn::conv2d_forward_direct_max_pool(p, x, w, b, y, threads, (float)clamp[0], (float)clamp[1], idx));
}

// (params, x, w, b, y, threads) → whether it ran: a pointwise forward pass of one group reading
// x through params' input map, clamp(x·scale[c] + shift[c], inputClamp) (default unclamped),
// from images params.imageStride floats apart (x holds n − 1 strides and one image of cIn planes:
// the leading channels of a larger tensor), with params.clamp as its epilogue and params.packed
// (conv2dPackWeights) where given; false, y untouched, where the by-image path does not take it.
Napi::Value MappedForward(const Args& a) {
  a.expect_count(6);
  const cnn::Conv2dParams p = read_conv(a, 0);
  const Fields f = a.object(0, "params");
  const int64_t image = (int64_t)p.c_in * p.h * p.w;
  const int64_t stride = f.integer("imageStride", image, kMaxIndex);
  const float* x = a.floats(1, "x", p.n > 0 ? (p.n - 1) * stride + image : 0, false);
  const float* w = a.floats(2, "w", elements(p, Size::W));
  const float* b = a.floats_or_null(3, "b", elements(p, Size::Bias));
  float* y = a.floats(4, "y", elements(p, Size::Y));
  const int threads = a.threads(5);
  double input[2] = {-INFINITY, INFINITY}, output[2] = {-INFINITY, INFINITY};
  if (f.present("inputClamp")) f.range("inputClamp", -INFINITY, INFINITY, input);
  if (f.present("clamp")) f.range("clamp", -INFINITY, INFINITY, output);
  const cnn::ConvInputMap in{f.floats("scale", p.c_in), f.floats("shift", p.c_in), (float)input[0], (float)input[1], (long)stride};
  cnn::ConvEpilogue e;
  e.lo = (float)output[0], e.hi = (float)output[1];
  const float* packed = f.floats_or_null("packed", cnn::conv2d_packed_weights_capacity(p));
  return Napi::Boolean::New(a.env(), cnn::conv2d_forward_by_image(p, x, w, b, y, threads, e, packed, &in));
}

// (params, threads) → the floats of w transformed for Winograd when a forward call given them takes
// that path (conv2dWinogradWeights fills them), else 0: eval caches them only where they serve.
Napi::Value WinogradFloats(const Args& a) {
  a.expect_count(2);
  const cnn::Conv2dParams p = read_conv(a, 0);
  const bool taken = cnn::conv2d_algo(p, cnn::ConvPass::Forward, a.threads(1), true) == cnn::ConvAlgo::Winograd;
  return Napi::Number::New(a.env(), taken ? (double)cnn::winograd_weights_floats(p) : 0.0);
}

// (params, w, u, threads): u (36 × cOut × cIn) = w's Winograd F(4×4, 3×3) transform.
Napi::Value WinogradWeights(const Args& a) {
  a.expect_count(4);
  const cnn::Conv2dParams p = read_conv(a, 0);
  if (!cnn::conv_winograd_fits(p)) a.range_error("Winograd takes ungrouped 3x3 convolutions of stride 1 and dilation 1");
  const float* w = a.floats(1, "w", elements(p, Size::W));
  float* u = a.floats(2, "u", cnn::winograd_weights_floats(p));
  cnn::winograd_transform_weights(p, w, u, a.threads(3));
  return a.undefined();
}

// (params, threads) → Floats(p) when a forward call takes the dense map, else 0: eval caches the
// dense map (Cin·H·W × Cout·OH·OW; conv2dDenseMapFloats) or its packing for the GEMM
// (conv2dDenseMapPackedFloats) only where it serves.
template <long (*Floats)(const cnn::Conv2dParams&)>
Napi::Value DenseMapFloats(const Args& a) {
  a.expect_count(2);
  const cnn::Conv2dParams p = read_conv(a, 0);
  const bool taken = cnn::conv2d_takes_dense_map(p, cnn::ConvPass::Forward, a.threads(1), true);
  return Napi::Number::New(a.env(), taken ? (double)Floats(p) : 0.0);
}

// (params, w, out, threads): out = w as the dense map of whole images (conv2dDenseMapWeights), or
// that packed as the forward GEMM multiplies it, for the active ISA (conv2dDenseMapPack).
template <long (*Floats)(const cnn::Conv2dParams&), void (*Build)(const cnn::Conv2dParams&, const float*, float*, int)>
Napi::Value DenseMapBuild(const Args& a) {
  a.expect_count(4);
  const cnn::Conv2dParams p = read_conv(a, 0);
  if (!cnn::conv_dense_map_fits(p)) a.range_error("a dense map takes ungrouped convolutions whose input map has no more pixels than the kernel taps");
  a.check_size({p.c_in, p.h, p.w, p.c_out, p.out_h(), p.out_w()}, "dense map weights", kMaxIndex);
  const float* w = a.floats(1, "w", elements(p, Size::W));
  float* out = a.floats(2, "out", Floats(p));
  Build(p, w, out, a.threads(3));
  return a.undefined();
}

// (params, w, out, threads): out = w's dense map with its columns by input pixel (ungrouped only),
// as denseLayerSmallForward multiplies it.
Napi::Value DenseMapByPixel(const Args& a) {
  a.expect_count(4);
  if (read_conv(a, 0).groups != 1) a.range_error("a dense map by pixel takes ungrouped convolutions");
  return DenseMapBuild<cnn::dense_map_weights_floats, cnn::dense_map_weights_by_pixel>(a);
}

// (params, threads) → the floats of w reordered for the channels-in-lanes loops when a forward call
// takes them (conv2dLanesWeights fills them), else 0: eval caches them only where they serve.
Napi::Value LanesFloats(const Args& a) {
  a.expect_count(2);
  const cnn::Conv2dParams p = read_conv(a, 0);
  const bool taken = cnn::conv2d_algo(p, cnn::ConvPass::Forward, a.threads(1), true) == cnn::ConvAlgo::Lanes;
  return Napi::Number::New(a.env(), taken ? (double)cnn::conv_lanes_weights_floats(p) : 0.0);
}

// (params, w, out, threads): out = w reordered for the channels-in-lanes loops on the active ISA.
Napi::Value LanesWeights(const Args& a) {
  a.expect_count(4);
  const cnn::Conv2dParams p = read_conv(a, 0);
  if (!cnn::conv_lanes_fits(p)) a.range_error("the channels-in-lanes loops take 3x3 convolutions of stride 1, padding 1, on rows of up to 8 pixels, ungrouped or with groups of whole vectors of output channels");
  const float* w = a.floats(1, "w", elements(p, Size::W));
  float* out = a.floats(2, "out", cnn::conv_lanes_weights_floats(p));
  cnn::conv_lanes_reorder(p, w, out, a.threads(3));
  return a.undefined();
}

// (params, threads) → the floats of w packed for the GEMM when a forward call goes by image and
// packs its weights (conv2dPackWeights fills them), else 0: eval caches them only where they serve.
Napi::Value PackedFloats(const Args& a) {
  a.expect_count(2);
  const cnn::Conv2dParams p = read_conv(a, 0);
  return Napi::Number::New(a.env(), (double)cnn::conv2d_packed_weights_floats(p, a.threads(1)));
}

// (params, w, packed, threads): packed = w as the forward call's GEMM takes it, for the active ISA.
Napi::Value PackWeights(const Args& a) {
  a.expect_count(4);
  const cnn::Conv2dParams p = read_conv(a, 0);
  const float* w = a.floats(1, "w", elements(p, Size::W));
  float* packed = a.floats(2, "packed", cnn::conv2d_packed_weights_capacity(p));
  a.threads(3);
  cnn::conv2d_pack_weights(p, w, packed);
  return a.undefined();
}

// (name): 'auto' | 'depthwise' | 'direct' | 'grid' | 'by-image' | 'batched' | 'winograd' | 'dense-map' (CNN_CONV_ALGO)
Napi::Value SetConvAlgo(const Args& a) {
  a.expect_count(1);
  cnn::set_conv_algo(a.choice<cnn::ConvAlgo>(0, "algo", cnn::parse_conv_algo, "convolution algorithm",
                                             "auto, depthwise, direct, grid, by-image, batched, winograd, dense-map or lanes"));
  return a.undefined();
}

// (on): whether Auto may take Winograd where the call transforms the weights (training; CNN_WINOGRAD_TRAINING)
Napi::Value SetWinogradTraining(const Args& a) {
  a.expect_count(1);
  cnn::set_winograd_training(a.boolean(0, "on"));
  return a.undefined();
}

// (params, pass, threads) → the path conv2d{Forward,BackwardInput,BackwardWeight} takes;
// pass 'forward' | 'backwardInput' | 'backwardWeight'.
Napi::Value ConvAlgo(const Args& a) {
  a.expect_count(3);
  const cnn::Conv2dParams p = read_conv(a, 0);
  auto parse_pass = [](const std::string& s, cnn::ConvPass* out) {
    if (s == "forward") return *out = cnn::ConvPass::Forward, true;
    if (s == "backwardInput") return *out = cnn::ConvPass::BackwardInput, true;
    if (s == "backwardWeight") return *out = cnn::ConvPass::BackwardWeight, true;
    return false;
  };
  const cnn::ConvPass which = a.choice<cnn::ConvPass>(1, "pass", parse_pass, "pass", "forward, backwardInput or backwardWeight");
  return Napi::String::New(a.env(), cnn::conv_algo_name(cnn::conv2d_algo(p, which, a.threads(2))));
}

const Registration rows({
    {"conv2dForward", Convolution<cnn::ConvPass::Forward, false>},
    {"conv2dBackwardInput", Convolution<cnn::ConvPass::BackwardInput, false>},
    {"conv2dBackwardWeight", Convolution<cnn::ConvPass::BackwardWeight, false>},
    {"conv2dMaxPoolForward", MaxPoolForward},
    {"conv2dMappedForward", MappedForward},
    {"conv2dRefForward", Convolution<cnn::ConvPass::Forward, true>},
    {"conv2dRefBackwardInput", Convolution<cnn::ConvPass::BackwardInput, true>},
    {"conv2dRefBackwardWeight", Convolution<cnn::ConvPass::BackwardWeight, true>},
    {"setConvAlgo", SetConvAlgo},
    {"setWinogradTraining", SetWinogradTraining},
    {"convAlgo", ConvAlgo},
    {"conv2dWinogradFloats", WinogradFloats},
    {"conv2dWinogradWeights", WinogradWeights},
    {"conv2dDenseMapFloats", DenseMapFloats<cnn::dense_map_weights_floats>},
    {"conv2dDenseMapWeights", DenseMapBuild<cnn::dense_map_weights_floats, cnn::dense_map_weights>},
    {"conv2dPackedFloats", PackedFloats},
    {"conv2dDenseMapWeightsByPixel", DenseMapByPixel},
    {"conv2dDenseMapPackedFloats", DenseMapFloats<cnn::dense_map_packed_floats>},
    {"conv2dDenseMapPack", DenseMapBuild<cnn::dense_map_packed_floats, cnn::dense_map_pack>},
    {"conv2dPackWeights", PackWeights},
    {"conv2dLanesFloats", LanesFloats},
    {"conv2dLanesWeights", LanesWeights},
});

}  // namespace
