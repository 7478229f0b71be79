// Bindings of the batch augmenter: ({images, imageShape, indices, seeds, ops, out, threads}).
// The op list (plain objects from src/data/transforms.ts describe()) becomes an AugPipeline
// here, once per call, checked against the image shape; the kernel never sees a JS value.
// augmentBatchAsync runs the same kernel on the libuv pool (threads passed explicitly: OpenMP
// settings are per OS thread) and resolves a Promise, so the JS thread can train meanwhile.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "augment/augment.h"
#include "bindings/args.h"
#include "bindings/registry.h"

namespace {

using namespace cnn_binding;

// An array of `count` floats in [lo, hi] (per-channel fill, mean, std).
void floats(const Fields& r, const char* name, int count, double lo, double hi, float* out) {
  double tmp[cnn::kAugMaxChannels];
  r.numbers(name, count, lo, hi, tmp);
  for (int i = 0; i < count; ++i) out[i] = (float)tmp[i];
}

constexpr int kMaxSide = 1 << 15;

// A JS array of at most `max` elements.
Napi::Array array_of(const Args& a, Napi::Value v, const std::string& what, uint32_t max) {
  if (!v.IsArray()) a.type_error("expected an array for " + what);
  Napi::Array arr = v.As<Napi::Array>();
  if (arr.Length() > max) a.range_error(what + " holds more than " + std::to_string(max) + " elements");
  return arr;
}

cnn::AaOp aa_op(const Fields& r) {
  const std::string name = r.string("op");
  for (int k = 0; k < cnn::kAaOpCount; ++k)
    if (name == cnn::kAaOpNames[k]) return (cnn::AaOp)k;
  r.args().range_error(r.what("op") + " '" + name + "' is not an auto-augment op");
}

// {mode, space | policies, numOps, level, levelStd, levelMax, interpolation, fill}: see
// src/data/auto-augment.ts. Magnitudes are bounded so that every op's arithmetic stays finite.
cnn::AutoAugmentSpec read_auto_augment(const Args& a, const Fields& r, int c) {
  cnn::AutoAugmentSpec s;
  const std::string mode = r.string("mode");
  if (mode == "policy") s.mode = cnn::AaMode::Policy;
  else if (mode == "trivial") s.mode = cnn::AaMode::Trivial;
  else if (mode == "rand") s.mode = cnn::AaMode::Rand;
  else a.range_error(r.what("mode") + " must be 'policy', 'trivial' or 'rand'");
  const std::string interp = r.string("interpolation");
  if (interp != "nearest" && interp != "bilinear") a.range_error(r.what("interpolation") + " must be 'nearest' or 'bilinear'");
  s.bilinear = interp == "bilinear";
  s.has_fill = r.present("fill");
  if (s.has_fill) floats(r, "fill", c, 0, 255, s.fill);
  constexpr double kMaxMagnitude = 1e4;
  if (s.mode == cnn::AaMode::Policy) {
    Napi::Array policies = array_of(a, r.get("policies"), r.what("policies"), 4096);
    if (policies.Length() == 0) a.range_error(r.what("policies") + " must not be empty");
    for (uint32_t i = 0; i < policies.Length(); ++i) {
      const std::string at = r.what("policies") + "[" + std::to_string(i) + "]";
      Napi::Array steps = array_of(a, policies.Get(i), at, 16);
      std::vector<cnn::AaStep> policy;
      for (uint32_t j = 0; j < steps.Length(); ++j) {
        const Fields f(a, steps.Get(j), at + "[" + std::to_string(j) + "]");
        cnn::AaStep step;
        step.op = aa_op(f);
        step.p = f.number("p", 0, 1);
        step.magnitude = f.number("magnitude", -kMaxMagnitude, kMaxMagnitude);
        step.is_signed = f.boolean("signed");
        policy.push_back(step);
      }
      s.policies.push_back(std::move(policy));
    }
    return s;
  }
  Napi::Array space = array_of(a, r.get("space"), r.what("space"), 64);
  if (space.Length() == 0) a.range_error(r.what("space") + " must not be empty");
  for (uint32_t i = 0; i < space.Length(); ++i) {
    const Fields f(a, space.Get(i), r.what("space") + "[" + std::to_string(i) + "]");
    cnn::AaSpaceOp op;
    op.op = aa_op(f);
    op.is_signed = f.boolean("signed");
    Napi::Array m = array_of(a, f.get("magnitudes"), f.what("magnitudes"), 1024);
    for (uint32_t k = 0; k < m.Length(); ++k)
      op.magnitudes.push_back(a.number_of(m.Get(k), f.what("magnitudes") + "[" + std::to_string(k) + "]", -kMaxMagnitude, kMaxMagnitude));
    s.space.push_back(std::move(op));
  }
  if (s.mode == cnn::AaMode::Rand) {
    s.num_ops = (int)r.integer("numOps", 0, 64);
    s.level = r.number("level", 0, 1024);
    s.level_std = r.number("levelStd", 0, 1e6);
    s.level_max = r.number("levelMax", 0, 1024);
  }
  return s;
}

cnn::AugOp read_op(const Args& a, Napi::Value v, size_t k, int c) {
  const std::string where = "ops[" + std::to_string(k) + "]";
  const Fields r(a, v, where);
  cnn::AugOp op;
  const std::string kind = r.string("kind");
  auto size = [&]() {
    op.out_h = (int)r.integer("height", 1, kMaxSide);
    op.out_w = (int)r.integer("width", 1, kMaxSide);
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
    floats(r, "fill", c, -1e30, 1e30, op.fill);
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
    floats(r, "fill", c, -1e30, 1e30, op.fill);
  } else if (kind == "colorJitter") {
    op.kind = cnn::AugKind::ColorJitter;
    static const char* names[4] = {"brightness", "contrast", "saturation", "hue"};
    for (int j = 0; j < 4; ++j) {
      if (!r.present(names[j])) continue;
      op.has_jitter[j] = true;
      if (j < 3) r.range(names[j], 0, 1e6, op.jitter[j]);
      else r.range(names[j], -0.5, 0.5, op.jitter[j]);
    }
  } else if (kind == "normalize") {
    op.kind = cnn::AugKind::Normalize;
    floats(r, "mean", c, -1e30, 1e30, op.mean);
    floats(r, "std", c, -1e30, 1e30, op.std);
    for (int j = 0; j < c; ++j)
      if (op.std[j] == 0) a.range_error(where + ".std must not contain 0");
  } else if (kind == "erasing") {
    op.kind = cnn::AugKind::Erasing;
    op.p = r.number("p", 0, 1);
    r.range("scale", 0, 1e6, op.scale);
    r.range("ratio", 1e-6, 1e6, op.ratio);
    op.erase_random = r.boolean("random");
    if (!op.erase_random) floats(r, "value", c, -1e30, 1e30, op.erase_value);
  } else if (kind == "autoAugment") {
    op.kind = cnn::AugKind::AutoAugment;
    op.auto_augment = read_auto_augment(a, r, c);
  } else {
    a.range_error(where + ".kind '" + kind + "' is not an augmentation op");
  }
  return op;
}

// (imageShape, ops) → the checked pipeline; `prefix` names them in errors ("" or "params.").
cnn::AugPipeline read_pipeline(const Args& a, Napi::Value shape_v, Napi::Value v, const std::string& prefix) {
  const auto shape = a.shape_of(shape_v, prefix + "imageShape");
  if (shape.size() != 3) a.range_error("imageShape must be [channels, height, width]");
  if (shape[0] < 1 || shape[0] > cnn::kAugMaxChannels)
    a.range_error("images must have 1 to " + std::to_string(cnn::kAugMaxChannels) + " channels");
  if (shape[1] < 1 || shape[1] > kMaxSide || shape[2] < 1 || shape[2] > kMaxSide)
    a.range_error("image height and width must be between 1 and " + std::to_string(kMaxSide));
  cnn::AugPipeline p;
  p.c = (int)shape[0]; p.h = (int)shape[1]; p.w = (int)shape[2];
  if (!v.IsArray()) a.type_error("expected an array of op objects for " + prefix + "ops");
  Napi::Array ops = v.As<Napi::Array>();
  if (ops.Length() > 64) a.range_error("ops holds more than 64 ops");
  for (uint32_t k = 0; k < ops.Length(); ++k) p.ops.push_back(read_op(a, ops.Get(k), k, p.c));
  const std::string problem = cnn::aug_prepare(p);
  if (!problem.empty()) a.range_error(problem);
  if (p.scratch > ((int64_t)1 << 30)) a.range_error("the pipeline's intermediate images are too large");
  return p;
}

// One call's arguments, checked: pointers into the caller's typed arrays.
struct BatchCall {
  cnn::AugPipeline pipeline;
  const uint8_t* images;
  const int32_t* indices;
  const uint32_t* seeds;
  float* out;
  int n = 0;
  int threads = 1;
  int64_t out_len = 0;
  Napi::Value out_value;  // the caller's out array (the async worker copies into it at the end)
};

// {images, imageShape, indices, seeds, ops, out, threads}
BatchCall read_call(const Args& a) {
  a.expect_count(1);
  const Fields f = a.object(0, "params");
  BatchCall call;
  call.pipeline = read_pipeline(a, f.get("imageShape"), f.get("ops"), "params.");
  const cnn::AugPipeline& p = call.pipeline;
  auto images = a.typed_of<uint8_t>(f.get("images"), f.what("images"), napi_uint8_array, "Uint8Array");
  const int64_t per_image = (int64_t)p.c * p.h * p.w;
  const int64_t len = (int64_t)images.ElementLength();
  if (len % per_image)
    a.range_error("params.images holds " + std::to_string(len) + " bytes, not a whole number of " +
                  std::to_string(p.c) + "x" + std::to_string(p.h) + "x" + std::to_string(p.w) + " images");
  const int64_t count = len / per_image;
  auto indices = a.typed_of<int32_t>(f.get("indices"), f.what("indices"), napi_int32_array, "Int32Array");
  auto seeds = a.typed_of<uint32_t>(f.get("seeds"), f.what("seeds"), napi_uint32_array, "Uint32Array");
  call.n = (int)indices.ElementLength();
  if (seeds.ElementLength() != indices.ElementLength())
    a.range_error("params.seeds must hold one seed per index (" + std::to_string(call.n) + ") but holds " +
                  std::to_string(seeds.ElementLength()));
  const int32_t* idx = indices.Data();
  for (int k = 0; k < call.n; ++k)
    if (idx[k] < 0 || idx[k] >= count)
      a.range_error("params.indices[" + std::to_string(k) + "] = " + std::to_string(idx[k]) + " is outside the " +
                    std::to_string(count) + " images");
  call.out_len = (int64_t)p.out_c * p.out_h * p.out_w * call.n;
  call.out_value = f.get("out");
  call.out = a.floats_of(call.out_value, f.what("out"), call.out_len);
  call.images = images.Data();
  call.indices = idx;
  call.seeds = seeds.Data();
  call.threads = (int)f.integer("threads", 1, 1024);
  return call;
}

Napi::Value AugmentBatch(const Args& a) {
  const BatchCall c = read_call(a);
  cnn::aug_batch(c.pipeline, c.images, c.indices, c.n, c.seeds, c.out, c.threads);
  return a.undefined();
}

// The worker thread reads and writes only memory it owns: the batch's images, the indices and
// the seeds are copied when the call is made, and the result is copied into the caller's `out`
// back on the JS thread. JS may change or detach any of its arrays meanwhile (issue 12 #6).
class AugmentWorker : public Napi::AsyncWorker {
 public:
  AugmentWorker(const Args& a, const BatchCall& call)
      : Napi::AsyncWorker(a.env(), "cnn.augmentBatchAsync"),
        deferred_(Napi::Promise::Deferred::New(a.env())),
        pipeline_(call.pipeline),
        seeds_(call.seeds, call.seeds + call.n),
        order_(call.n),
        out_(call.out_len),
        threads_(call.threads) {
    const size_t per_image = (size_t)pipeline_.c * pipeline_.h * pipeline_.w;
    images_.resize(per_image * call.n);
    for (int k = 0; k < call.n; ++k) {
      std::memcpy(images_.data() + per_image * k, call.images + per_image * call.indices[k], per_image);
      order_[k] = k;
    }
    caller_out_ = Napi::Persistent(call.out_value.As<Napi::Object>());
  }
  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      cnn::aug_batch(pipeline_, images_.data(), order_.data(), (int)order_.size(), seeds_.data(), out_.data(), threads_);
    } catch (const std::exception& e) {
      SetError(std::string("augmentBatchAsync: ") + e.what());
    }
  }
  void OnOK() override {
    auto out = caller_out_.Value().As<Napi::Float32Array>();
    if (out.ElementLength() != out_.size()) {
      deferred_.Reject(Napi::Error::New(Env(), "augmentBatchAsync: out was detached or resized while the call was pending").Value());
      return;
    }
    std::memcpy(out.Data(), out_.data(), out_.size() * sizeof(float));
    deferred_.Resolve(Env().Undefined());
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  cnn::AugPipeline pipeline_;
  std::vector<uint8_t> images_;
  std::vector<uint32_t> seeds_;
  std::vector<int32_t> order_;
  std::vector<float> out_;
  int threads_;
  Napi::ObjectReference caller_out_;
};

// Same arguments as augmentBatch; argument errors throw synchronously, like every binding.
Napi::Value AugmentBatchAsync(const Args& a) {
  auto* worker = new AugmentWorker(a, read_call(a));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// (imageShape, ops) → [channels, height, width] the pipeline produces, or a RangeError.
Napi::Value AugmentOutputShape(const Args& a) {
  a.expect_count(2);
  const cnn::AugPipeline p = read_pipeline(a, a.info()[0], a.info()[1], "");
  Napi::Array out = Napi::Array::New(a.env(), 3);
  out.Set(0u, p.out_c);
  out.Set(1u, p.out_h);
  out.Set(2u, p.out_w);
  return out;
}

// ({image, imageShape, op, seed}) → the [name, magnitude] pairs an autoAugment op applied to
// this uint8 CHW image, in place, with its own generator seeded `seed` (the augmenter seeds it
// with the sample generator's next draw). The TypeScript transform's apply() and the policy tests.
Napi::Value AutoAugmentImage(const Args& a) {
  a.expect_count(1);
  const Fields r = a.object(0, "params");
  const auto shape = r.shape("imageShape");
  if (shape.size() != 3 || (shape[0] != 1 && shape[0] != 3) || shape[1] < 1 || shape[1] > kMaxSide || shape[2] < 1 || shape[2] > kMaxSide)
    a.range_error("params.imageShape must be [1 or 3 channels, height, width] with sides up to " + std::to_string(kMaxSide));
  const int c = (int)shape[0], h = (int)shape[1], w = (int)shape[2];
  const cnn::AugOp op = read_op(a, r.get("op"), 0, c);
  if (op.kind != cnn::AugKind::AutoAugment) a.range_error("params.op must be an autoAugment op");
  auto image = a.typed_of<uint8_t>(r.get("image"), r.what("image"), napi_uint8_array, "Uint8Array");
  const size_t size = (size_t)c * h * w;
  if (image.ElementLength() != size)
    a.range_error("params.image holds " + std::to_string(image.ElementLength()) + " bytes but imageShape needs " + std::to_string(size));
  const uint32_t seed = (uint32_t)r.integer("seed", 0, 0xffffffffLL);
  const cnn::AutoAugmentSpec& s = op.auto_augment;
  std::vector<cnn::AaApplied> applied(std::max(1, cnn::aa_max_applied(s)));
  cnn::Rng rng(seed);
  const int n = cnn::aa_sample(s, rng, applied.data(), (int)applied.size());
  std::vector<uint8_t> tmp(size);
  Napi::Array out = Napi::Array::New(a.env(), n);
  for (int i = 0; i < n; ++i) {
    cnn::aa_apply(applied[i].op, applied[i].magnitude, s, image.Data(), c, h, w, tmp.data());
    Napi::Array pair = Napi::Array::New(a.env(), 2);
    pair.Set(0u, cnn::kAaOpNames[(int)applied[i].op]);
    pair.Set(1u, applied[i].magnitude);
    out.Set((uint32_t)i, pair);
  }
  return out;
}

const Registration rows({
    {"autoAugmentImage", AutoAugmentImage},
    {"augmentBatch", AugmentBatch},
    {"augmentBatchAsync", AugmentBatchAsync},
    {"augmentOutputShape", AugmentOutputShape},
});

}  // namespace
