// Bindings for native/pad: mode, pads and buffer lengths are checked before any kernel runs.
#include <napi.h>

#include <string>

#include "bindings/args.h"
#include "bindings/registry.h"
#include "pad/pad.h"

namespace {

using namespace cnn_binding;

// (mode, planes, h, w, left, right, top, bottom, ...): mode 'zeros'|'reflect'|'replicate'|'circular'.
cnn::Pad2dParams read_pad(const Args& a) {
  cnn::Pad2dParams p;
  const std::string mode = a.string(0, "mode");
  if (mode == "zeros" || mode == "constant") p.mode = cnn::PadMode::Zeros;
  else if (mode == "reflect") p.mode = cnn::PadMode::Reflect;
  else if (mode == "replicate") p.mode = cnn::PadMode::Replicate;
  else if (mode == "circular") p.mode = cnn::PadMode::Circular;
  else a.range_error("unknown padding mode '" + mode + "' (expected zeros, reflect, replicate or circular)");
  p.planes = a.integer(1, "planes", 0, kMaxIndex);
  p.h = a.integer(2, "h", 0, kMaxIndex);
  p.w = a.integer(3, "w", 0, kMaxIndex);
  p.left = a.integer(4, "left", 0, kMaxIndex);
  p.right = a.integer(5, "right", 0, kMaxIndex);
  p.top = a.integer(6, "top", 0, kMaxIndex);
  p.bottom = a.integer(7, "bottom", 0, kMaxIndex);
  if (p.out_h() > kMaxIndex || p.out_w() > kMaxIndex) a.range_error("padded tensor is too large");
  a.check_size({p.planes, p.out_h(), p.out_w()}, "padded tensor");
  a.check_size({p.planes, p.h, p.w}, "input");
  const std::string why = cnn::pad2d_check(p);
  if (!why.empty()) a.range_error(why);
  return p;
}

// (mode, planes, h, w, left, right, top, bottom, value, x, y, threads)
Napi::Value Pad2dForward(const Args& a) {
  a.expect_count(12);
  cnn::Pad2dParams p = read_pad(a);
  const float value = a.number(8, "value");
  const float* x = a.floats(9, "x", p.planes * p.h * p.w);
  float* y = a.floats(10, "y", p.planes * p.out_h() * p.out_w());
  cnn::pad2d_forward(p, x, value, y, a.threads(11));
  return a.undefined();
}

// (mode, planes, h, w, left, right, top, bottom, dy, dx, threads)
Napi::Value Pad2dBackward(const Args& a) {
  a.expect_count(11);
  cnn::Pad2dParams p = read_pad(a);
  const float* dy = a.floats(8, "dy", p.planes * p.out_h() * p.out_w());
  float* dx = a.floats(9, "dx", p.planes * p.h * p.w);
  cnn::pad2d_backward(p, dy, dx, a.threads(10));
  return a.undefined();
}

const Registration rows({
    {"pad2dForward", Pad2dForward},
    {"pad2dBackward", Pad2dBackward},
});

}  // namespace
