#include "bindings/registry.h"

void register_family_bindings(Napi::Env env, Napi::Object exports) {
  (void)env;
  (void)exports;
}
