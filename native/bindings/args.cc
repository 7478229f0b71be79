#include "bindings/args.h"

#include <cmath>

namespace cnn_binding {

namespace {

std::string show(double d) {
  if (std::isnan(d)) return "NaN";
  if (d == std::floor(d) && std::fabs(d) < 1e15) return std::to_string((int64_t)d);
  return std::to_string(d);
}

}  // namespace

void Args::type_error(const std::string& msg) const {
  throw Napi::TypeError::New(info_.Env(), std::string(fn_) + ": " + msg);
}

void Args::range_error(const std::string& msg) const {
  throw Napi::RangeError::New(info_.Env(), std::string(fn_) + ": " + msg);
}

void Args::expect_count(size_t n) const {
  if (info_.Length() != n)
    type_error("expected " + std::to_string(n) + " arguments but received " + std::to_string(info_.Length()));
}

// A reader asks N-API once where one call both checks the type and reads (napi_get_value_double,
// napi_get_value_bool and napi_get_typedarray_info fail on another type with nothing thrown), and
// spells out a name only to throw: reading a convolution's 16 fields and planning it (convAlgo)
// went from 2.1 to 1.7 µs a call.
int64_t Args::integer_of(Napi::Value v, const Name& what, int64_t lo, int64_t hi) const {
  const double d = number_of(v, what);
  if (!std::isfinite(d) || d != std::floor(d)) type_error("expected an integer for " + what.str() + " but received " + show(d));
  if (d < (double)lo || d > (double)hi)
    range_error("expected " + what.str() + " between " + std::to_string(lo) + " and " + std::to_string(hi) +
                " but received " + show(d));
  return (int64_t)d;
}

double Args::number_of(Napi::Value v, const Name& what) const {
  double d;
  if (napi_get_value_double(env(), v, &d) != napi_ok) type_error("expected a number for " + what.str());
  return d;
}

double Args::number_of(Napi::Value v, const Name& what, double lo, double hi) const {
  const double d = number_of(v, what);
  if (std::isnan(d)) range_error(what.str() + " is NaN");
  if (d < lo || d > hi)
    range_error("expected " + what.str() + " between " + show(lo) + " and " + show(hi) + " but received " + show(d));
  return d;
}

bool Args::boolean_of(Napi::Value v, const Name& what) const {
  bool b;
  if (napi_get_value_bool(env(), v, &b) != napi_ok) type_error("expected a boolean for " + what.str());
  return b;
}

std::string Args::string_of(Napi::Value v, const Name& what) const {
  if (!v.IsString()) type_error("expected a string for " + what.str());
  return v.As<Napi::String>().Utf8Value();
}

std::pair<size_t, void*> Args::typed_data(Napi::Value v, const Name& what, napi_typedarray_type type,
                                          const char* type_name) const {
  napi_typedarray_type got;
  size_t length;
  void* data;
  if (napi_get_typedarray_info(env(), v, &got, &length, &data, nullptr, nullptr) != napi_ok || got != type)
    type_error("expected a " + std::string(type_name) + " for " + what.str());
  return {length, data};
}

float* Args::floats_of(Napi::Value v, const Name& what, int64_t need, bool exact) const {
  const auto [length, data] = typed_data(v, what, napi_float32_array, "Float32Array");
  const int64_t len = (int64_t)length;
  if (exact ? len != need : len < need)
    range_error("expected " + what.str() + " to hold " + (exact ? "" : "at least ") + std::to_string(need) +
                " floats but it holds " + std::to_string(len));
  return static_cast<float*>(data);
}

float* Args::floats_or_null_of(Napi::Value v, const Name& what, int64_t need) const {
  return v.IsNull() || v.IsUndefined() ? nullptr : floats_of(v, what, need);
}

std::vector<int64_t> Args::shape_of(Napi::Value v, const Name& what) const {
  if (!v.IsArray()) type_error("expected an array of integers for " + what.str());
  auto arr = v.As<Napi::Array>();
  if (arr.Length() > (uint32_t)kMaxShapeDims)
    range_error(what.str() + " has more than " + std::to_string(kMaxShapeDims) + " dimensions");
  std::vector<int64_t> out;
  int64_t total = 1;
  for (uint32_t d = 0; d < arr.Length(); ++d) {
    Napi::Value e = arr.Get(d);
    if (!e.IsNumber()) type_error("expected integers in " + what.str());
    const double x = e.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(x) || x != std::floor(x) || x < 0 || x > (double)kMaxIndex)
      range_error("expected non-negative integers in " + what.str());
    out.push_back((int64_t)x);
    total *= out.back();
    if (total > ((int64_t)1 << 40)) range_error(what.str() + " is too large");
  }
  return out;
}

float* Args::floats_or_null(size_t i, const char* name, int64_t need) const {
  return floats_or_null_of(info_[i], name, need);
}

Pointwise Args::pointwise(size_t first, std::initializer_list<const char*> names) const {
  Pointwise p{length(first, *names.begin()), {nullptr, nullptr, nullptr, nullptr}};
  size_t i = 0;
  for (const char* name : names) p.at[i] = floats(first + i, name, p.n), ++i;
  return p;
}

int64_t Args::length(size_t i, const char* name) const {
  return (int64_t)typed_data(info_[i], name, napi_float32_array, "Float32Array").first;
}

void Args::check_size(std::initializer_list<int64_t> factors, const char* what, int64_t limit) const {
  int64_t total = 1;
  for (int64_t f : factors) {
    if (f == 0) return;
    if (total > limit / f) range_error(std::string(what) + " is too large");
    total *= f;
  }
}

Fields Args::object(size_t i, const char* name) const { return Fields(*this, info_[i], name); }

Fields::Fields(const Args& a, Napi::Value v, std::string prefix) : a_(a), prefix_(std::move(prefix)) {
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray() || v.IsFunction())
    a.type_error("expected an object for " + prefix_);
  obj_ = v.As<Napi::Object>();
}

bool Fields::present(const char* name) const {
  Napi::Value v = get(name);
  return !v.IsNull() && !v.IsUndefined();
}

void Fields::numbers(const char* name, int count, double lo, double hi, double* out) const {
  Napi::Value v = get(name);
  if (!v.IsArray()) a_.type_error("expected an array of numbers for " + what(name));
  Napi::Array arr = v.As<Napi::Array>();
  if ((int64_t)arr.Length() != count)
    a_.range_error("expected " + what(name) + " to hold " + std::to_string(count) + " numbers but it holds " +
                   std::to_string(arr.Length()));
  for (int i = 0; i < count; ++i)
    out[i] = a_.number_of(arr.Get((uint32_t)i), what(name) + "[" + std::to_string(i) + "]", lo, hi);
}

void Fields::range(const char* name, double lo, double hi, double* out) const {
  numbers(name, 2, lo, hi, out);
  if (out[0] > out[1]) a_.range_error("expected " + what(name) + " to be [min, max] with min <= max");
}

}  // namespace cnn_binding
