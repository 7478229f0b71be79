// Bindings for native/cpu: what the CPU offers and which kernel variant runs.
#include <napi.h>

#include <string>

#include "bindings/registry.h"
#include "cpu/cpu.h"

namespace {

using namespace cnn_binding;

template <typename T, typename Name>
Napi::Array to_array(Napi::Env env, const std::vector<T>& items, Name name) {
  Napi::Array out = Napi::Array::New(env, items.size());
  for (size_t i = 0; i < items.size(); ++i) out.Set((uint32_t)i, name(items[i]));
  return out;
}

Napi::Value CpuInfo(const Args& a) {
  a.expect_count(0);
  Napi::Object o = Napi::Object::New(a.env());
  o.Set("model", cnn::cpu_model());
  o.Set("features", to_array(a.env(), cnn::cpu_features(), [](const std::string& s) { return s; }));
  o.Set("supported", to_array(a.env(), cnn::supported_isas(), cnn::isa_name));
  o.Set("best", cnn::isa_name(cnn::best_isa()));
  o.Set("active", cnn::isa_name(cnn::active_isa()));
  return o;
}

// (isa): 'scalar' | 'neon' | 'avx2' | 'avx512'
Napi::Value SetIsa(const Args& a) {
  a.expect_count(1);
  const cnn::Isa isa = a.choice<cnn::Isa>(0, "isa", cnn::parse_isa, "kernel variant", "scalar, neon, avx2 or avx512");
  if (!cnn::set_active_isa(isa))
    a.range_error(std::string("this CPU does not support the '") + cnn::isa_name(isa) + "' kernels (best here: " +
                  cnn::isa_name(cnn::best_isa()) + ")");
  return a.undefined();
}

const Registration rows({
    {"cpuInfo", CpuInfo},
    {"setIsa", SetIsa},
});

}  // namespace
