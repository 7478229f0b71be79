// The one argument reader every binding uses: each read checks type, range and length and
// throws a JS TypeError/RangeError naming the function and the argument (or field) before any
// kernel touches memory. Positional arguments and the fields of parameter objects go through
// the same value readers, so a number, an integer or a buffer is checked the same way wherever
// it comes from.
#pragma once
#include <napi.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace cnn_binding {

constexpr int64_t kMaxIndex = 0x7fffffff;
// Elements one tensor may hold at the boundary (256 GiB of floats).
constexpr int64_t kMaxElements = 1LL << 36;
constexpr double kInf = std::numeric_limits<double>::infinity();
// Shapes the boundary accepts (PyTorch's limit is higher; no model here comes close).
constexpr int kMaxShapeDims = 8;

class Fields;

// What an error calls a value: an argument's name or a parameter object's `prefix.field`, spelled
// out only for the message, so that a call whose arguments are good builds no strings. It points
// into strings that outlive the read it names (literals, or the caller's own).
class Name {
 public:
  Name(const char* name) : first_(name) {}
  Name(const std::string& name) : first_(name.c_str()) {}
  Name(const std::string& prefix, const char* field) : first_(prefix.c_str()), field_(field) {}
  std::string str() const { return field_ ? std::string(first_) + "." + field_ : std::string(first_); }

 private:
  const char* first_;
  const char* field_ = nullptr;
};

// Float32Arrays of one length at consecutive positions: the buffers of a pointwise op.
struct Pointwise {
  int64_t n;       // the first array's length
  float* at[4];    // in argument order
};

class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* fn) : info_(info), fn_(fn) {}

  const Napi::CallbackInfo& info() const { return info_; }
  Napi::Env env() const { return info_.Env(); }
  Napi::Value undefined() const { return info_.Env().Undefined(); }
  const char* function() const { return fn_; }

  [[noreturn]] void type_error(const std::string& msg) const;
  [[noreturn]] void range_error(const std::string& msg) const;
  void expect_count(size_t n) const;

  // ---- one value, named `what` in errors ----
  int64_t integer_of(Napi::Value v, const Name& what, int64_t lo, int64_t hi) const;
  // Any number (NaN and infinities included).
  double number_of(Napi::Value v, const Name& what) const;
  // A number in [lo, hi]; NaN is refused.
  double number_of(Napi::Value v, const Name& what, double lo, double hi) const;
  bool boolean_of(Napi::Value v, const Name& what) const;
  std::string string_of(Napi::Value v, const Name& what) const;
  // A Float32Array of exactly `need` elements (at least `need` when !exact).
  float* floats_of(Napi::Value v, const Name& what, int64_t need, bool exact = true) const;
  // null/undefined → nullptr, else as floats_of.
  float* floats_or_null_of(Napi::Value v, const Name& what, int64_t need) const;
  // A plain array of non-negative integers (a shape) of at most kMaxShapeDims dimensions.
  std::vector<int64_t> shape_of(Napi::Value v, const Name& what) const;
  // A typed array of element type T (napi type `type`), any length.
  template <typename T>
  Napi::TypedArrayOf<T> typed_of(Napi::Value v, const Name& what, napi_typedarray_type type,
                                 const char* type_name) const {
    typed_data(v, what, type, type_name);
    return v.As<Napi::TypedArrayOf<T>>();
  }

  // ---- positional argument i ----
  int64_t integer(size_t i, const char* name, int64_t lo, int64_t hi) const { return integer_of(info_[i], name, lo, hi); }
  double number(size_t i, const char* name) const { return number_of(info_[i], name); }
  bool boolean(size_t i, const char* name) const { return boolean_of(info_[i], name); }
  std::string string(size_t i, const char* name) const { return string_of(info_[i], name); }
  float* floats(size_t i, const char* name, int64_t need, bool exact = true) const {
    return floats_of(info_[i], name, need, exact);
  }
  // null/undefined → nullptr, else as floats().
  float* floats_or_null(size_t i, const char* name, int64_t need) const;
  // A string argument naming one of a set: `parse(name, &value)` false means unknown, a
  // RangeError "unknown <what> '<name>' (expected <expected>)".
  template <typename T, typename Parse>
  T choice(size_t i, const char* name, Parse parse, const char* what, const char* expected) const {
    const std::string s = string(i, name);
    T value;
    if (!parse(s, &value)) range_error("unknown " + std::string(what) + " '" + s + "' (expected " + expected + ")");
    return value;
  }
  // Float32Arrays at positions first, first+1, ... named `names` (at most 4), all as long as
  // the first.
  Pointwise pointwise(size_t first, std::initializer_list<const char*> names) const;
  // The length of a Float32Array argument: the first array of an elementwise call sets n.
  int64_t length(size_t i, const char* name) const;
  std::vector<int64_t> shape(size_t i, const char* name) const { return shape_of(info_[i], name); }
  int threads(size_t i) const { return (int)integer(i, "threads", 1, 1024); }
  // RangeError "<what> is too large" unless the product of these non-negative factors is at most
  // `limit`; checked factor by factor, so huge factors cannot overflow on the way.
  void check_size(std::initializer_list<int64_t> factors, const char* what, int64_t limit = kMaxElements) const;
  // A plain object argument whose fields are read as `name.field`.
  Fields object(size_t i, const char* name) const;

 private:
  // v's length and data where it is a typed array of `type`, else a TypeError naming type_name:
  // one N-API call checks and reads.
  std::pair<size_t, void*> typed_data(Napi::Value v, const Name& what, napi_typedarray_type type,
                                      const char* type_name) const;

  const Napi::CallbackInfo& info_;
  const char* fn_;
};

// The fields of one parameter object, read with Args' value readers and named `prefix.field`.
class Fields {
 public:
  Fields(const Args& a, Napi::Value v, std::string prefix);

  Napi::Value get(const char* name) const { return obj_.Get(name); }
  bool present(const char* name) const;  // neither missing, undefined nor null
  Name named(const char* field) const { return Name(prefix_, field); }
  std::string what(const char* name) const { return named(name).str(); }
  const Args& args() const { return a_; }

  int64_t integer(const char* name, int64_t lo, int64_t hi) const { return a_.integer_of(get(name), named(name), lo, hi); }
  double number(const char* name) const { return a_.number_of(get(name), named(name)); }
  double number(const char* name, double lo, double hi) const { return a_.number_of(get(name), named(name), lo, hi); }
  bool boolean(const char* name) const { return a_.boolean_of(get(name), named(name)); }
  std::string string(const char* name) const { return a_.string_of(get(name), named(name)); }
  float* floats(const char* name, int64_t need) const { return a_.floats_of(get(name), named(name), need); }
  float* floats_or_null(const char* name, int64_t need) const { return a_.floats_or_null_of(get(name), named(name), need); }
  std::vector<int64_t> shape(const char* name) const { return a_.shape_of(get(name), named(name)); }
  // An array of exactly `count` numbers, each in [lo, hi].
  void numbers(const char* name, int count, double lo, double hi, double* out) const;
  // [min, max] within [lo, hi].
  void range(const char* name, double lo, double hi, double* out) const;

 private:
  const Args& a_;
  Napi::Object obj_;
  std::string prefix_;
};

inline int64_t numel(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

}  // namespace cnn_binding
