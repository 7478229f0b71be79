// Argument checking shared by every binding: each reader throws a JS TypeError/RangeError
// naming the function and the argument before any kernel touches memory.
#pragma once
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "eltwise/eltwise.h"

namespace cnn_binding {

constexpr int64_t kMaxIndex = 0x7fffffff;

// Reads positional arguments of one binding and throws a JS error naming the bad one.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* fn) : info_(info), fn_(fn) {}

  [[noreturn]] void type_error(const std::string& msg) const {
    throw Napi::TypeError::New(info_.Env(), std::string(fn_) + ": " + msg);
  }
  [[noreturn]] void range_error(const std::string& msg) const {
    throw Napi::RangeError::New(info_.Env(), std::string(fn_) + ": " + msg);
  }

  void expect_count(size_t n) const {
    if (info_.Length() != n)
      type_error("expected " + std::to_string(n) + " arguments but received " +
                 std::to_string(info_.Length()));
  }

  int64_t integer(size_t i, const char* name, int64_t lo, int64_t hi) const {
    Napi::Value v = info_[i];
    if (!v.IsNumber()) type_error(std::string("expected a number for ") + name);
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || d != std::floor(d))
      type_error(std::string("expected an integer for ") + name + " but received " + std::to_string(d));
    if (d < (double)lo || d > (double)hi)
      range_error(std::string("expected ") + name + " between " + std::to_string(lo) + " and " +
                  std::to_string(hi) + " but received " + std::to_string((int64_t)d));
    return (int64_t)d;
  }

  float number(size_t i, const char* name) const {
    Napi::Value v = info_[i];
    if (!v.IsNumber()) type_error(std::string("expected a number for ") + name);
    return v.As<Napi::Number>().FloatValue();
  }

  bool boolean(size_t i, const char* name) const {
    Napi::Value v = info_[i];
    if (!v.IsBoolean()) type_error(std::string("expected a boolean for ") + name);
    return v.As<Napi::Boolean>().Value();
  }

  std::string string(size_t i, const char* name) const {
    Napi::Value v = info_[i];
    if (!v.IsString()) type_error(std::string("expected a string for ") + name);
    return v.As<Napi::String>().Utf8Value();
  }

  // A Float32Array of at least `need` elements (exactly, when exact).
  float* floats(size_t i, const char* name, int64_t need, bool exact = true) const {
    Napi::Value v = info_[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      type_error(std::string("expected a Float32Array for ") + name);
    auto arr = v.As<Napi::Float32Array>();
    int64_t len = (int64_t)arr.ElementLength();
    if (exact ? len != need : len < need)
      range_error(std::string("expected ") + name + " to hold " + (exact ? "" : "at least ") +
                  std::to_string(need) + " floats but it holds " + std::to_string(len));
    return arr.Data();
  }

  float* floats_or_null(size_t i, const char* name, int64_t need) const {
    Napi::Value v = info_[i];
    if (v.IsNull() || v.IsUndefined()) return nullptr;
    return floats(i, name, need);
  }

  // A plain array of non-negative integers (a shape).
  std::vector<int64_t> shape(size_t i, const char* name) const {
    Napi::Value v = info_[i];
    if (!v.IsArray()) type_error(std::string("expected an array of integers for ") + name);
    auto arr = v.As<Napi::Array>();
    if (arr.Length() > (uint32_t)cnn::kMaxDims)
      range_error(std::string(name) + " has more than " + std::to_string(cnn::kMaxDims) + " dimensions");
    std::vector<int64_t> out;
    int64_t total = 1;
    for (uint32_t d = 0; d < arr.Length(); ++d) {
      Napi::Value e = arr.Get(d);
      if (!e.IsNumber()) type_error(std::string("expected integers in ") + name);
      double x = e.As<Napi::Number>().DoubleValue();
      if (!std::isfinite(x) || x != std::floor(x) || x < 0 || x > (double)kMaxIndex)
        range_error(std::string("expected non-negative integers in ") + name);
      out.push_back((int64_t)x);
      total *= out.back();
      if (total > ((int64_t)1 << 40)) range_error(std::string(name) + " is too large");
    }
    return out;
  }

  int threads(size_t i) const { return (int)integer(i, "threads", 1, 1024); }

 private:
  const Napi::CallbackInfo& info_;
  const char* fn_;
};

inline int64_t numel(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

}  // namespace cnn_binding
