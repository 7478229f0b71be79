// Bindings of the batch augmenter: (images, imageShape, indices, seeds, ops, out, threads).
// The op list (plain objects from src/data/transforms.ts describe()) becomes an AugPipeline
// here, once per call, checked against the image shape; the kernel never sees a JS value.
// augmentBatchAsync runs the same kernel on the libuv pool (threads passed explicitly: OpenMP
// settings are per OS thread) and resolves a Promise, so the JS thread can train meanwhile.
#include <napi.h>

#include <cmath>
#include <string>

#include "augment/augment.h"
#include "bindings/args.h"
#include "bindings/registry.h"

namespace {

using namespace cnn_binding;

// Reads the fields of one op object, naming the op in every error.
class OpReader {
 public:
  OpReader(const Args& a, Napi::Object o, std::string where) : a_(a), o_(o), where_(std::move(where)) {}

  double number(const char* name, double lo, double hi) const {
    Napi::Value v = o_.Get(name);
    if (!v.IsNumber()) a_.type_error(where_ + "." + name + " must be a number");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || d < lo || d > hi)
      a_.range_error(where_ + "." + name + " must be between " + std::to_string(lo) + " and " +
                     std::to_string(hi) + " but is " + std::to_string(d));
    return d;
  }
  int integer(const char* name, int lo, int hi) const {
    double d = number(name, lo, hi);
    if (d != std::floor(d)) a_.type_error(where_ + "." + name + " must be an integer but is " + std::to_string(d));
    return (int)d;
  }
  bool boolean(const char* name) const {
    Napi::Value v = o_.Get(name);
    if (!v.IsBoolean()) a_.type_error(where_ + "." + name + " must be a boolean");
    return v.As<Napi::Boolean>().Value();
  }
  // An array of `count` numbers in [lo, hi].
  void numbers(const char* name, int count, double lo, double hi, double* out) const {
    Napi::Value v = o_.Get(name);
    if (!v.IsArray()) a_.type_error(where_ + "." + name + " must be an array of numbers");
    Napi::Array arr = v.As<Napi::Array>();
    if ((int)arr.Length() != count)
      a_.range_error(where_ + "." + name + " must hold " + std::to_string(count) + " numbers but holds " +
                     std::to_string(arr.Length()));
    for (int i = 0; i < count; ++i) {
      Napi::Value e = arr.Get((uint32_t)i);
      if (!e.IsNumber()) a_.type_error(where_ + "." + name + " must hold numbers");
      double d = e.As<Napi::Number>().DoubleValue();
      if (!std::isfinite(d) || d < lo || d > hi)
        a_.range_error(where_ + "." + name + "[" + std::to_string(i) + "] must be between " + std::to_string(lo) +
                       " and " + std::to_string(hi) + " but is " + std::to_string(d));
      out[i] = d;
    }
  }
  void floats(const char* name, int count, double lo, double hi, float* out) const {
    double tmp[cnn::kAugMaxChannels];
    numbers(name, count, lo, hi, tmp);
    for (int i = 0; i < count; ++i) out[i] = (float)tmp[i];
  }
  void range(const char* name, double lo, double hi, double* out) const {
    numbers(name, 2, lo, hi, out);
    if (out[0] > out[1]) a_.range_error(where_ + "." + name + " must be [min, max] with min <= max");
  }
  std::string string(const char* name) const {
    Napi::Value v = o_.Get(name);
    if (!v.IsString()) a_.type_error(where_ + "." + name + " must be a string");
    return v.As<Napi::String>().Utf8Value();
  }

 private:
  const Args& a_;
  Napi::Object o_;
  std::string where_;
};

constexpr int kMaxSide = 1 << 15;

cnn::AugOp read_op(const Args& a, Napi::Value v, size_t k, int c) {
  const std::string where = "ops[" + std::to_string(k) + "]";
  if (!v.IsObject() || v.IsArray()) a.type_error(where + " must be an op object");
  OpReader r(a, v.As<Napi::Object>(), where);
  cnn::AugOp op;
  const std::string kind = r.string("kind");
  auto size = [&]() {
    op.out_h = r.integer("height", 1, kMaxSide);
    op.out_w = r.integer("width", 1, kMaxSide);
  };
  if (kind == "randomCrop") {
    op.kind = cnn::AugKind::RandomCrop;
    size();
    double pad[4];
    r.numbers("padding", 4, 0, kMaxSide, pad);
    for (double d : pad)
      if (d != std::floor(d)) a.type_error(where + ".padding must hold integers");
    op.pad_l = (int)pad[0]; op.pad_t = (int)pad[1]; op.pad_r = (int)pad[2]; op.pad_b = (int)pad[3];
    op.pad_if_needed = r.boolean("padIfNeeded");
    op.mode = (cnn::ImagePadMode)r.integer("paddingMode", 0, 3);
    r.floats("fill", c, -1e30, 1e30, op.fill);
  } else if (kind == "centerCrop") {
    op.kind = cnn::AugKind::CenterCrop;
    size();
  } else if (kind == "resize") {
    op.kind = cnn::AugKind::Resize;
    size();
  } else if (kind == "randomResizedCrop") {
    op.kind = cnn::AugKind::RandomResizedCrop;
    size();
    r.range("scale", 0, 1e6, op.scale);
    r.range("ratio", 1e-6, 1e6, op.ratio);
  } else if (kind == "horizontalFlip" || kind == "verticalFlip" || kind == "grayscale") {
    op.kind = kind == "horizontalFlip" ? cnn::AugKind::HorizontalFlip
            : kind == "verticalFlip" ? cnn::AugKind::VerticalFlip : cnn::AugKind::Grayscale;
    op.p = r.number("p", 0, 1);
  } else if (kind == "rotation") {
    op.kind = cnn::AugKind::Rotation;
    r.range("degrees", -1e6, 1e6, op.degrees);
    const std::string interp = r.string("interpolation");
    if (interp != "nearest" && interp != "bilinear") a.range_error(where + ".interpolation must be 'nearest' or 'bilinear'");
    op.bilinear = interp == "bilinear";
    r.floats("fill", c, -1e30, 1e30, op.fill);
  } else if (kind == "colorJitter") {
    op.kind = cnn::AugKind::ColorJitter;
    static const char* names[4] = {"brightness", "contrast", "saturation", "hue"};
    for (int j = 0; j < 4; ++j) {
      Napi::Value f = v.As<Napi::Object>().Get(names[j]);
      if (f.IsNull() || f.IsUndefined()) continue;
      op.has_jitter[j] = true;
      if (j < 3) r.range(names[j], 0, 1e6, op.jitter[j]);
      else r.range(names[j], -0.5, 0.5, op.jitter[j]);
    }
  } else if (kind == "normalize") {
    op.kind = cnn::AugKind::Normalize;
    r.floats("mean", c, -1e30, 1e30, op.mean);
    r.floats("std", c, -1e30, 1e30, op.std);
    for (int j = 0; j < c; ++j)
      if (op.std[j] == 0) a.range_error(where + ".std must not contain 0");
  } else if (kind == "erasing") {
    op.kind = cnn::AugKind::Erasing;
    op.p = r.number("p", 0, 1);
    r.range("scale", 0, 1e6, op.scale);
    r.range("ratio", 1e-6, 1e6, op.ratio);
    op.erase_random = r.boolean("random");
    if (!op.erase_random) r.floats("value", c, -1e30, 1e30, op.erase_value);
  } else {
    a.range_error(where + ".kind '" + kind + "' is not an augmentation op");
  }
  return op;
}

template <typename T, napi_typedarray_type Type>
Napi::TypedArrayOf<T> typed(const Args& a, const Napi::CallbackInfo& info, size_t i, const char* what, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != Type)
    a.type_error(std::string("expected a ") + what + " for " + name);
  return v.As<Napi::TypedArrayOf<T>>();
}

// Everything one call needs, checked; the typed arrays are held by the caller (or the worker).
struct BatchCall {
  cnn::AugPipeline pipeline;
  Napi::Uint8Array images;
  Napi::Int32Array indices;
  Napi::Uint32Array seeds;
  Napi::Float32Array out;
  int n = 0;
  int threads = 1;
};

BatchCall read_call(const Args& a, const Napi::CallbackInfo& info) {
  a.expect_count(7);
  BatchCall call;
  call.images = typed<uint8_t, napi_uint8_array>(a, info, 0, "Uint8Array", "images");
  auto shape = a.shape(1, "imageShape");
  if (shape.size() != 3) a.range_error("imageShape must be [channels, height, width]");
  if (shape[0] < 1 || shape[0] > cnn::kAugMaxChannels)
    a.range_error("images must have 1 to " + std::to_string(cnn::kAugMaxChannels) + " channels");
  if (shape[1] < 1 || shape[1] > kMaxSide || shape[2] < 1 || shape[2] > kMaxSide)
    a.range_error("image height and width must be between 1 and " + std::to_string(kMaxSide));
  cnn::AugPipeline& p = call.pipeline;
  p.c = (int)shape[0]; p.h = (int)shape[1]; p.w = (int)shape[2];
  const int64_t per_image = (int64_t)p.c * p.h * p.w;
  const int64_t len = (int64_t)call.images.ElementLength();
  if (len % per_image)
    a.range_error("images holds " + std::to_string(len) + " bytes, not a whole number of " +
                  std::to_string(p.c) + "x" + std::to_string(p.h) + "x" + std::to_string(p.w) + " images");
  const int64_t count = len / per_image;

  call.indices = typed<int32_t, napi_int32_array>(a, info, 2, "Int32Array", "indices");
  call.seeds = typed<uint32_t, napi_uint32_array>(a, info, 3, "Uint32Array", "seeds");
  call.n = (int)call.indices.ElementLength();
  if (call.seeds.ElementLength() != call.indices.ElementLength())
    a.range_error("seeds must hold one seed per index (" + std::to_string(call.n) + ") but holds " +
                  std::to_string(call.seeds.ElementLength()));
  const int32_t* idx = call.indices.Data();
  for (int k = 0; k < call.n; ++k)
    if (idx[k] < 0 || idx[k] >= count)
      a.range_error("indices[" + std::to_string(k) + "] = " + std::to_string(idx[k]) + " is outside the " +
                    std::to_string(count) + " images");

  if (!info[4].IsArray()) a.type_error("expected an array of op objects for ops");
  Napi::Array ops = info[4].As<Napi::Array>();
  if (ops.Length() > 64) a.range_error("ops holds more than 64 ops");
  for (uint32_t k = 0; k < ops.Length(); ++k) p.ops.push_back(read_op(a, ops.Get(k), k, p.c));
  const std::string problem = cnn::aug_prepare(p);
  if (!problem.empty()) a.range_error(problem);
  if (p.scratch > ((int64_t)1 << 30)) a.range_error("the pipeline's intermediate images are too large");

  const int64_t out_size = (int64_t)p.out_c * p.out_h * p.out_w;
  a.floats(5, "out", out_size * call.n);
  call.out = info[5].As<Napi::Float32Array>();
  call.threads = a.threads(6);
  return call;
}

Napi::Value AugmentBatch(const Napi::CallbackInfo& info) {
  Args a(info, "augmentBatch");
  BatchCall c = read_call(a, info);
  cnn::aug_batch(c.pipeline, c.images.Data(), c.indices.Data(), c.n, c.seeds.Data(), c.out.Data(), c.threads);
  return info.Env().Undefined();
}

class AugmentWorker : public Napi::AsyncWorker {
 public:
  AugmentWorker(Napi::Env env, BatchCall call)
      : Napi::AsyncWorker(env, "cnn.augmentBatchAsync"), deferred_(Napi::Promise::Deferred::New(env)), call_(std::move(call)) {
    // Keep the typed arrays alive (and their memory in place) until the kernel is done.
    images_ = Napi::Persistent(call_.images.As<Napi::Object>());
    indices_ = Napi::Persistent(call_.indices.As<Napi::Object>());
    seeds_ = Napi::Persistent(call_.seeds.As<Napi::Object>());
    out_ = Napi::Persistent(call_.out.As<Napi::Object>());
    images_ptr_ = call_.images.Data();
    indices_ptr_ = call_.indices.Data();
    seeds_ptr_ = call_.seeds.Data();
    out_ptr_ = call_.out.Data();
  }
  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      cnn::aug_batch(call_.pipeline, images_ptr_, indices_ptr_, call_.n, seeds_ptr_, out_ptr_, call_.threads);
    } catch (const std::exception& e) {
      SetError(std::string("augmentBatchAsync: ") + e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  BatchCall call_;
  Napi::ObjectReference images_, indices_, seeds_, out_;
  const uint8_t* images_ptr_;
  const int32_t* indices_ptr_;
  const uint32_t* seeds_ptr_;
  float* out_ptr_;
};

// Same arguments as augmentBatch; argument errors throw synchronously, like every binding.
Napi::Value AugmentBatchAsync(const Napi::CallbackInfo& info) {
  Args a(info, "augmentBatchAsync");
  BatchCall c = read_call(a, info);
  auto* worker = new AugmentWorker(info.Env(), std::move(c));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// (imageShape, ops) → [channels, height, width] the pipeline produces, or a RangeError.
Napi::Value AugmentOutputShape(const Napi::CallbackInfo& info) {
  Args a(info, "augmentOutputShape");
  a.expect_count(2);
  auto shape = a.shape(0, "imageShape");
  if (shape.size() != 3 || shape[0] < 1 || shape[0] > cnn::kAugMaxChannels || shape[1] < 1 || shape[1] > kMaxSide ||
      shape[2] < 1 || shape[2] > kMaxSide)
    a.range_error("imageShape must be [channels 1-4, height, width]");
  cnn::AugPipeline p;
  p.c = (int)shape[0]; p.h = (int)shape[1]; p.w = (int)shape[2];
  if (!info[1].IsArray()) a.type_error("expected an array of op objects for ops");
  Napi::Array ops = info[1].As<Napi::Array>();
  for (uint32_t k = 0; k < ops.Length(); ++k) p.ops.push_back(read_op(a, ops.Get(k), k, p.c));
  const std::string problem = cnn::aug_prepare(p);
  if (!problem.empty()) a.range_error(problem);
  Napi::Array out = Napi::Array::New(info.Env(), 3);
  out.Set(0u, p.out_c);
  out.Set(1u, p.out_h);
  out.Set(2u, p.out_w);
  return out;
}

}  // namespace

void register_augment_bindings(Napi::Env env, Napi::Object exports) {
  exports.Set("augmentBatch", Napi::Function::New(env, AugmentBatch));
  exports.Set("augmentBatchAsync", Napi::Function::New(env, AugmentBatchAsync));
  exports.Set("augmentOutputShape", Napi::Function::New(env, AugmentOutputShape));
}
