#include "bindings/registry.h"

void register_norm_bindings(Napi::Env env, Napi::Object exports);
void register_activation_bindings(Napi::Env env, Napi::Object exports);
void register_dropout_bindings(Napi::Env env, Napi::Object exports);
void register_loss_bindings(Napi::Env env, Napi::Object exports);
void register_augment_bindings(Napi::Env env, Napi::Object exports);
void register_optim_bindings(Napi::Env env, Napi::Object exports);
void register_dist_bindings(Napi::Env env, Napi::Object exports);

void register_family_bindings(Napi::Env env, Napi::Object exports) {
  register_pool_bindings(env, exports);
  register_pad_bindings(env, exports);
  register_norm_bindings(env, exports);
  register_activation_bindings(env, exports);
  register_dropout_bindings(env, exports);
  register_loss_bindings(env, exports);
  register_augment_bindings(env, exports);
  register_optim_bindings(env, exports);
  register_dist_bindings(env, exports);
}
