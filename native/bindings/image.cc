// Bindings of the JPEG crop decoder (native/image), built when libjpeg-turbo was found
// (CNN_JPEG); without it they are still exported, jpegDecoder() says null and
// decodeJpegCropsAsync, after checking its arguments, hands every file back (status 1) for sharp.
// decodeJpegCropsAsync({files, boxes, clipToImage, slots, flips, height, width, out, mean, std,
// threads}) decodes a batch on the libuv pool (OpenMP over the images inside) into uint8 crops (a
// Uint8Array out) or normalized floats (a Float32Array out), and resolves {status, messages}.
#include <napi.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "bindings/args.h"
#include "bindings/registry.h"
#ifdef CNN_JPEG
#include "image/jpeg_crop.h"
#endif

namespace {

using namespace cnn_binding;

constexpr int kMaxSide = 1 << 15;
constexpr uint32_t kMaxImages = 1 << 16;
constexpr double kMaxCoordinate = 1 << 30;

// One call's arguments, copied: the worker owns every byte it reads and writes (JS may change
// or detach its arrays while the call is pending).
struct CropsCall {
  std::vector<uint8_t> bytes;      // the files, back to back
  std::vector<size_t> starts;      // n + 1 offsets into bytes
  std::vector<double> boxes;       // 4n: top, left, height, width
  std::vector<int32_t> slots;      // image k goes to out[slots[k] · 3 · height · width]
  std::vector<uint8_t> flips;
  bool clip_to_image = false;
  bool floats = false;             // out is a Float32Array: normalized with mean and std
  float mean[3] = {0, 0, 0}, std[3] = {1, 1, 1};
  int height = 0, width = 0, threads = 1;
  Napi::Value out_value;
};

CropsCall read_call(const Args& a) {
  a.expect_count(1);
  const Fields f = a.object(0, "params");
  CropsCall call;
  Napi::Value files_v = f.get("files");
  if (!files_v.IsArray()) a.type_error("expected an array of Uint8Arrays for params.files");
  Napi::Array files = files_v.As<Napi::Array>();
  const uint32_t n = files.Length();
  if (n > kMaxImages) a.range_error("params.files holds more than " + std::to_string(kMaxImages) + " files");
  std::vector<Napi::Uint8Array> views;
  size_t total = 0;
  for (uint32_t k = 0; k < n; ++k) {
    views.push_back(a.typed_of<uint8_t>(files.Get(k), "params.files[" + std::to_string(k) + "]", napi_uint8_array, "Uint8Array"));
    total += views.back().ElementLength();
  }
  auto boxes = a.typed_of<double>(f.get("boxes"), f.what("boxes"), napi_float64_array, "Float64Array");
  if (boxes.ElementLength() != 4 * (size_t)n)
    a.range_error("params.boxes must hold 4 numbers per file (" + std::to_string(4 * n) + ") but holds " + std::to_string(boxes.ElementLength()));
  for (uint32_t k = 0; k < 4 * n; ++k) {
    const double v = boxes[k];
    const bool side = k % 4 >= 2;
    if (!std::isfinite(v) || v < 0 || v > kMaxCoordinate || (side && v <= 0))
      a.range_error("params.boxes[" + std::to_string(k) + "] = " + std::to_string(v) + " is not a " +
                    (side ? "positive side" : "non-negative offset") + " up to 2^30");
  }
  call.clip_to_image = f.boolean("clipToImage");
  auto slots = a.typed_of<int32_t>(f.get("slots"), f.what("slots"), napi_int32_array, "Int32Array");
  if (slots.ElementLength() != n)
    a.range_error("params.slots must hold one slot per file (" + std::to_string(n) + ") but holds " + std::to_string(slots.ElementLength()));
  auto flips = a.typed_of<uint8_t>(f.get("flips"), f.what("flips"), napi_uint8_array, "Uint8Array");
  if (flips.ElementLength() != n)
    a.range_error("params.flips must hold one flag per file (" + std::to_string(n) + ") but holds " + std::to_string(flips.ElementLength()));
  call.height = (int)f.integer("height", 1, kMaxSide);
  call.width = (int)f.integer("width", 1, kMaxSide);
  call.out_value = f.get("out");
  const bool is_floats = call.out_value.IsTypedArray() && call.out_value.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array;
  if (!is_floats && !(call.out_value.IsTypedArray() && call.out_value.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array))
    a.type_error("expected a Uint8Array or a Float32Array for params.out");
  call.floats = is_floats;
  const int64_t per = 3LL * call.height * call.width;
  const int64_t capacity = (int64_t)call.out_value.As<Napi::TypedArray>().ElementLength() / per;
  for (uint32_t k = 0; k < n; ++k)
    if (slots[k] < 0 || slots[k] >= capacity)
      a.range_error("params.slots[" + std::to_string(k) + "] = " + std::to_string(slots[k]) + " is outside the " +
                    std::to_string(capacity) + " images params.out holds");
  double mean[3], std[3];
  f.numbers("mean", 3, -1e30, 1e30, mean);
  f.numbers("std", 3, -1e30, 1e30, std);
  for (int ch = 0; ch < 3; ++ch) {
    if (std[ch] == 0) a.range_error("params.std must not contain 0");
    call.mean[ch] = (float)mean[ch];
    call.std[ch] = (float)std[ch];
  }
  call.threads = (int)f.integer("threads", 1, 1024);
  call.bytes.resize(total);
  call.starts.push_back(0);
  for (auto& v : views) {
    if (v.ElementLength()) std::memcpy(call.bytes.data() + call.starts.back(), v.Data(), v.ElementLength());
    call.starts.push_back(call.starts.back() + v.ElementLength());
  }
  call.boxes.assign(boxes.Data(), boxes.Data() + 4 * n);
  call.slots.assign(slots.Data(), slots.Data() + n);
  call.flips.assign(flips.Data(), flips.Data() + n);
  return call;
}

#ifdef CNN_JPEG
class CropsWorker : public Napi::AsyncWorker {
 public:
  CropsWorker(const Args& a, CropsCall call)
      : Napi::AsyncWorker(a.env(), "cnn.decodeJpegCropsAsync"),
        deferred_(Napi::Promise::Deferred::New(a.env())),
        call_(std::move(call)) {
    caller_out_ = Napi::Persistent(call_.out_value.As<Napi::Object>());
    call_.out_value = Napi::Value();
  }
  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    const size_t n = call_.slots.size(), per = 3 * (size_t)call_.height * call_.width;
    if (call_.floats) floats_.resize(n * per);
    else pixels_.resize(n * per);
    std::vector<cnn::JpegCrop> crops(n);
    for (size_t k = 0; k < n; ++k) {
      cnn::JpegCrop& c = crops[k];
      c.data = call_.bytes.data() + call_.starts[k];
      c.size = call_.starts[k + 1] - call_.starts[k];
      c.top = call_.boxes[4 * k];
      c.left = call_.boxes[4 * k + 1];
      c.height = call_.boxes[4 * k + 2];
      c.width = call_.boxes[4 * k + 3];
      c.clip_to_image = call_.clip_to_image;
      c.out_h = call_.height;
      c.out_w = call_.width;
      c.flip = call_.flips[k] != 0;
      if (call_.floats) c.out_f = floats_.data() + k * per;
      else c.out = pixels_.data() + k * per;
      c.mean = call_.mean;
      c.std = call_.std;
    }
    status_.resize(n);
    messages_.resize(n);
    cnn::jpeg_decode_crops(crops.data(), (int)n, call_.threads, status_.data(), messages_.data());
  }
  void OnOK() override {
    Napi::Env env = Env();
    auto out = caller_out_.Value().As<Napi::TypedArray>();
    const size_t n = call_.slots.size(), per = 3 * (size_t)call_.height * call_.width;
    const size_t bytes = call_.floats ? sizeof(float) : 1;
    for (size_t k = 0; k < n; ++k)
      if ((size_t)(call_.slots[k] + 1) * per > out.ElementLength()) {
        deferred_.Reject(Napi::Error::New(env, "decodeJpegCropsAsync: out was detached or resized while the call was pending").Value());
        return;
      }
    Napi::Array status = Napi::Array::New(env, n), messages = Napi::Array::New(env, n);
    for (size_t k = 0; k < n; ++k) {
      if (status_[k] == cnn::JpegStatus::Ok) {
        uint8_t* dst = static_cast<uint8_t*>(out.ArrayBuffer().Data()) + out.ByteOffset() + call_.slots[k] * per * bytes;
        const void* src = call_.floats ? (const void*)(floats_.data() + k * per) : (const void*)(pixels_.data() + k * per);
        std::memcpy(dst, src, per * bytes);
      }
      status.Set((uint32_t)k, (int)status_[k]);
      messages.Set((uint32_t)k, messages_[k]);
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("status", status);
    result.Set("messages", messages);
    deferred_.Resolve(result);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  CropsCall call_;
  std::vector<uint8_t> pixels_;
  std::vector<float> floats_;
  std::vector<cnn::JpegStatus> status_;
  std::vector<std::string> messages_;
  Napi::ObjectReference caller_out_;
};
#endif

Napi::Value DecodeJpegCropsAsync(const Args& a) {
  CropsCall call = read_call(a);
#ifdef CNN_JPEG
  auto* worker = new CropsWorker(a, std::move(call));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
#else
  // No decoder in this build: it takes none of the files (status 1), and the caller uses sharp.
  const uint32_t n = (uint32_t)call.slots.size();
  Napi::Array status = Napi::Array::New(a.env(), n), messages = Napi::Array::New(a.env(), n);
  for (uint32_t k = 0; k < n; ++k) {
    status.Set(k, 1);
    messages.Set(k, "this build has no JPEG decoder (libjpeg-turbo was not found)");
  }
  Napi::Object result = Napi::Object::New(a.env());
  result.Set("status", status);
  result.Set("messages", messages);
  auto deferred = Napi::Promise::Deferred::New(a.env());
  deferred.Resolve(result);
  return deferred.Promise();
#endif
}

// The native JPEG decoder's name and version, or null when the addon was built without one.
Napi::Value JpegDecoder(const Args& a) {
  a.expect_count(0);
#ifdef CNN_JPEG
  return Napi::String::New(a.env(), cnn::jpeg_decoder_name());
#else
  return a.env().Null();
#endif
}

const Registration rows({
    {"decodeJpegCropsAsync", DecodeJpegCropsAsync},
    {"jpegDecoder", JpegDecoder},
});

}  // namespace
