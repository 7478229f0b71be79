#include "bindings/registry.h"

void register_family_bindings(Napi::Env env, Napi::Object exports) {
  register_pool_bindings(env, exports);
  register_pad_bindings(env, exports);
}
