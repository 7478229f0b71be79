// Bindings for native/cpu/profile: the per-category timers behind `--profile`.
#include <napi.h>

#include "bindings/registry.h"
#include "cpu/profile.h"

namespace {

using namespace cnn_binding;

// (on): times the calling thread from now on, or stops timing.
Napi::Value ProfileEnable(const Args& a) {
  a.expect_count(1);
  cnn::profile_enable(a.boolean(0, "on"));
  return a.undefined();
}

// (reset): {gemmKernel, packing, im2col} seconds since the last reset.
Napi::Value ProfileRead(const Args& a) {
  a.expect_count(1);
  const bool reset = a.boolean(0, "reset");
  double s[(int)cnn::ProfileCategory::Count];
  cnn::profile_read(s, reset);
  Napi::Object o = Napi::Object::New(a.env());
  o.Set("gemmKernel", s[(int)cnn::ProfileCategory::GemmKernel]);
  o.Set("packing", s[(int)cnn::ProfileCategory::Packing]);
  o.Set("im2col", s[(int)cnn::ProfileCategory::Im2col]);
  return o;
}

const Registration rows({
    {"profileEnable", ProfileEnable},
    {"profileRead", ProfileRead},
});

}  // namespace
