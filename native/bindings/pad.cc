// Bindings for native/pad: mode, pads and buffer lengths are checked before any kernel runs.
#include <napi.h>

#include <string>

#include "bindings/args.h"
#include "bindings/registry.h"
#include "pad/pad.h"

namespace {

using namespace cnn_binding;

bool parse_mode(const std::string& s, cnn::PadMode* out) {
  if (s == "zeros" || s == "constant") return *out = cnn::PadMode::Zeros, true;
  if (s == "reflect") return *out = cnn::PadMode::Reflect, true;
  if (s == "replicate") return *out = cnn::PadMode::Replicate, true;
  if (s == "circular") return *out = cnn::PadMode::Circular, true;
  return false;
}

// {mode, planes, h, w, left, right, top, bottom}: mode 'zeros'|'reflect'|'replicate'|'circular'.
cnn::Pad2dParams read_pad(const Args& a) {
  const Fields f = a.object(0, "params");
  cnn::Pad2dParams p;
  const std::string mode = f.string("mode");
  if (!parse_mode(mode, &p.mode))
    a.range_error("unknown padding mode '" + mode + "' (expected zeros, reflect, replicate or circular)");
  p.planes = f.integer("planes", 0, kMaxIndex);
  p.h = f.integer("h", 0, kMaxIndex);
  p.w = f.integer("w", 0, kMaxIndex);
  p.left = f.integer("left", 0, kMaxIndex);
  p.right = f.integer("right", 0, kMaxIndex);
  p.top = f.integer("top", 0, kMaxIndex);
  p.bottom = f.integer("bottom", 0, kMaxIndex);
  if (p.out_h() > kMaxIndex || p.out_w() > kMaxIndex) a.range_error("padded tensor is too large");
  a.check_size({p.planes, p.out_h(), p.out_w()}, "padded tensor");
  a.check_size({p.planes, p.h, p.w}, "input");
  const std::string why = cnn::pad2d_check(p);
  if (!why.empty()) a.range_error(why);
  return p;
}

// (params, value, x, y, threads)
Napi::Value Pad2dForward(const Args& a) {
  a.expect_count(5);
  const cnn::Pad2dParams p = read_pad(a);
  const float value = (float)a.number(1, "value");
  const float* x = a.floats(2, "x", p.planes * p.h * p.w);
  float* y = a.floats(3, "y", p.planes * p.out_h() * p.out_w());
  cnn::pad2d_forward(p, x, value, y, a.threads(4));
  return a.undefined();
}

// (params, dy, dx, threads)
Napi::Value Pad2dBackward(const Args& a) {
  a.expect_count(4);
  const cnn::Pad2dParams p = read_pad(a);
  const float* dy = a.floats(1, "dy", p.planes * p.out_h() * p.out_w());
  float* dx = a.floats(2, "dx", p.planes * p.h * p.w);
  cnn::pad2d_backward(p, dy, dx, a.threads(3));
  return a.undefined();
}

const Registration rows({
    {"pad2dForward", Pad2dForward},
    {"pad2dBackward", Pad2dBackward},
});

}  // namespace
