// Each kernel family outside addon.cc keeps its bindings in native/bindings/<family>.cc and
// adds itself to register_family_bindings (bindings/registry.cc).
#pragma once
#include <napi.h>

void register_family_bindings(Napi::Env env, Napi::Object exports);

void register_pool_bindings(Napi::Env env, Napi::Object exports);
void register_pad_bindings(Napi::Env env, Napi::Object exports);
