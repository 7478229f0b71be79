#include "bindings/registry.h"

void register_augment_bindings(Napi::Env env, Napi::Object exports);

void register_family_bindings(Napi::Env env, Napi::Object exports) {
  register_augment_bindings(env, exports);
}
