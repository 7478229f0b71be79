// Bindings of the JPEG crop decoder (native/image), built when libjpeg-turbo was found
// (CNN_JPEG); without it they are still exported, jpegDecoder() says null and
// decodeJpegCropsAsync, after checking its arguments, hands every file back (status 1) for sharp.
// decodeJpegCropsAsync({files, boxes, clipToImage, slots, flips, count, height, width, floats,
// mean, std, threads}) decodes a batch on the libuv pool (OpenMP over the images inside) into a
// batch it allocates, uint8 crops or normalized floats, and resolves {pixels, status, messages}.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
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

// Batch buffers kept for reuse once JS has let go of them (the ArrayBuffer's finalizer): writing a
// fresh 38 MB batch (64 × 3 × 224 × 224 floats) faulted in every page, a fifth of the loader's CPU.
// A few buffers of the sizes in use are kept; each starts with a header holding its size.
class BatchBuffers {
 public:
  static constexpr size_t kHeader = 64;
  static constexpr size_t kKept = 2;
  // A buffer of `bytes` (its data starts kHeader bytes in), or nullptr when out of memory.
  uint8_t* take(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (size_t i = 0; i < kept_.size(); ++i)
        if (size_of(kept_[i]) == bytes) {
          uint8_t* b = kept_[i];
          kept_.erase(kept_.begin() + i);
          return b + kHeader;
        }
    }
    auto* b = static_cast<uint8_t*>(std::malloc(kHeader + bytes));
    if (!b) return nullptr;
    std::memcpy(b, &bytes, sizeof bytes);
    return b + kHeader;
  }
  void give(uint8_t* data) {
    uint8_t* b = data - kHeader;
    std::lock_guard<std::mutex> lock(mutex_);
    if (kept_.size() == kKept) {
      std::free(kept_.front());
      kept_.erase(kept_.begin());
    }
    kept_.push_back(b);
  }

 private:
  static size_t size_of(const uint8_t* b) {
    size_t bytes;
    std::memcpy(&bytes, b, sizeof bytes);
    return bytes;
  }
  std::mutex mutex_;
  std::vector<uint8_t*> kept_;
};
// Never destroyed: a finalizer may give a buffer back while the process exits.
BatchBuffers& batch_buffers() {
  static auto* pool = new BatchBuffers;
  return *pool;
}

// One call's arguments, copied: the worker owns every byte it reads (JS may change or detach
// its arrays while the call is pending), and writes only the output it allocated itself.
struct CropsCall {
  std::vector<uint8_t> bytes;      // the files, back to back
  std::vector<size_t> starts;      // n + 1 offsets into bytes
  std::vector<double> boxes;       // 4n: top, left, height, width
  std::vector<int32_t> slots;      // image k goes to output image slots[k] of count
  std::vector<uint8_t> flips;
  bool clip_to_image = false;
  bool floats = false;             // normalized floats, else uint8 levels
  float mean[3] = {0, 0, 0}, std[3] = {1, 1, 1};
  int height = 0, width = 0, count = 0, threads = 1;
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
  call.count = (int)f.integer("count", 0, kMaxImages);
  auto slots = a.typed_of<int32_t>(f.get("slots"), f.what("slots"), napi_int32_array, "Int32Array");
  if (slots.ElementLength() != n)
    a.range_error("params.slots must hold one slot per file (" + std::to_string(n) + ") but holds " + std::to_string(slots.ElementLength()));
  for (uint32_t k = 0; k < n; ++k)
    if (slots[k] < 0 || slots[k] >= call.count)
      a.range_error("params.slots[" + std::to_string(k) + "] = " + std::to_string(slots[k]) + " is outside the " +
                    std::to_string(call.count) + " images of params.count");
  auto flips = a.typed_of<uint8_t>(f.get("flips"), f.what("flips"), napi_uint8_array, "Uint8Array");
  if (flips.ElementLength() != n)
    a.range_error("params.flips must hold one flag per file (" + std::to_string(n) + ") but holds " + std::to_string(flips.ElementLength()));
  call.height = (int)f.integer("height", 1, kMaxSide);
  call.width = (int)f.integer("width", 1, kMaxSide);
  a.check_size({call.count, 3, call.height, call.width}, "params.count x 3 x params.height x params.width");
  call.floats = f.boolean("floats");
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

size_t output_bytes(const CropsCall& call) {
  return (size_t)call.count * 3 * call.height * call.width * (call.floats ? sizeof(float) : 1);
}

// {pixels, status, messages} → the Promise's value. pixels takes over `data` (from batch_buffers(),
// given back by the garbage collector's finalizer), so the batch reaches JS without a copy on the JS thread.
Napi::Object crops_result(Napi::Env env, const CropsCall& call, uint8_t* data, const int32_t* status, const std::string* messages) {
  const size_t elements = (size_t)call.count * 3 * call.height * call.width;
  const size_t bytes = output_bytes(call);
  // Told to V8 as external memory, so that it collects spent batches as soon as they add up.
  Napi::MemoryManagement::AdjustExternalMemory(env, (int64_t)bytes);
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, data, bytes, [bytes](Napi::Env e, void* p) {
    batch_buffers().give(static_cast<uint8_t*>(p));
    Napi::MemoryManagement::AdjustExternalMemory(e, -(int64_t)bytes);
  });
  Napi::Object result = Napi::Object::New(env);
  if (call.floats) result.Set("pixels", Napi::Float32Array::New(env, elements, buffer, 0));
  else result.Set("pixels", Napi::Uint8Array::New(env, elements, buffer, 0));
  const uint32_t n = (uint32_t)call.slots.size();
  Napi::Array status_a = Napi::Array::New(env, n), messages_a = Napi::Array::New(env, n);
  for (uint32_t k = 0; k < n; ++k) {
    status_a.Set(k, status[k]);
    messages_a.Set(k, messages[k]);
  }
  result.Set("status", status_a);
  result.Set("messages", messages_a);
  return result;
}

// Slots no file filled: zeros (the caller fills them from other decoders, or drops them).
void zero_unfilled(const CropsCall& call, const int32_t* status, uint8_t* data) {
  const size_t per = 3 * (size_t)call.height * call.width * (call.floats ? sizeof(float) : 1);
  std::vector<uint8_t> filled(call.count, 0);
  for (size_t k = 0; k < call.slots.size(); ++k)
    if (status[k] == 0) filled[call.slots[k]] = 1;
  for (int s = 0; s < call.count; ++s)
    if (!filled[s]) std::memset(data + s * per, 0, per);
}

#ifdef CNN_JPEG
class CropsWorker : public Napi::AsyncWorker {
 public:
  CropsWorker(const Args& a, CropsCall call)
      : Napi::AsyncWorker(a.env(), "cnn.decodeJpegCropsAsync"),
        deferred_(Napi::Promise::Deferred::New(a.env())),
        call_(std::move(call)) {}
  ~CropsWorker() override {
    if (data_) batch_buffers().give(data_);
  }
  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    const size_t n = call_.slots.size(), per = 3 * (size_t)call_.height * call_.width;
    data_ = batch_buffers().take(output_bytes(call_));
    if (!data_) {
      SetError("decodeJpegCropsAsync: out of memory for the batch");
      return;
    }
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
      if (call_.floats) c.out_f = reinterpret_cast<float*>(data_) + call_.slots[k] * per;
      else c.out = data_ + call_.slots[k] * per;
      c.mean = call_.mean;
      c.std = call_.std;
    }
    std::vector<cnn::JpegStatus> status(n);
    messages_.resize(n);
    cnn::jpeg_decode_crops(crops.data(), (int)n, call_.threads, status.data(), messages_.data());
    status_.resize(n);
    for (size_t k = 0; k < n; ++k) status_[k] = (int32_t)status[k];
    zero_unfilled(call_, status_.data(), data_);
  }
  void OnOK() override {
    uint8_t* data = data_;
    data_ = nullptr;  // the ArrayBuffer holds it now
    deferred_.Resolve(crops_result(Env(), call_, data, status_.data(), messages_.data()));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  CropsCall call_;
  uint8_t* data_ = nullptr;
  std::vector<int32_t> status_;
  std::vector<std::string> messages_;
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
  const size_t n = call.slots.size();
  std::vector<int32_t> status(n, 1);
  std::vector<std::string> messages(n, "this build has no JPEG decoder (libjpeg-turbo was not found)");
  uint8_t* data = batch_buffers().take(output_bytes(call));
  if (!data) throw Napi::Error::New(a.env(), "decodeJpegCropsAsync: out of memory for the batch");
  zero_unfilled(call, status.data(), data);
  auto deferred = Napi::Promise::Deferred::New(a.env());
  deferred.Resolve(crops_result(a.env(), call, data, status.data(), messages.data()));
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
