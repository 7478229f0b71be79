// Module init only: the bindings live in native/bindings/<family>.cc, one table each
// (bindings/registry.h), and every one checks its arguments before a kernel sees them.
#include <napi.h>

#include "bindings/registry.h"
#include "cpu/heap.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  cnn::keep_tensor_memory_in_heap();
  cnn_binding::export_bindings(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(cnn, Init)
