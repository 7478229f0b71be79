#include "bindings/chain_layers.h"

#include <cstdint>
#include <string>

#include "gemm/gemm.h"

namespace cnn_binding {

// A layer's packed weights live in a JS Float32Array: linear_chain_packed_floats, 16 floats to
// reach a 64-byte boundary, then the ISA and the offset they were packed for. They are packed
// again when the caller says the weights changed (fresh), or for another ISA or offset.
cnn::ChainLayer read_chain_layer(const Args& a, Napi::Value v, uint32_t l, int in_expected, ChainLayerSource* source) {
  const Fields f(a, v, "params.layers[" + std::to_string(l) + "]");
  cnn::ChainLayer L;
  L.in = (int)f.integer("inFeatures", 1, kMaxIndex);
  L.out = (int)f.integer("outFeatures", 1, kMaxIndex);
  if (in_expected >= 0 && L.in != in_expected)
    a.range_error(f.what("inFeatures") + " is " + std::to_string(L.in) + " but the layer before gives " + std::to_string(in_expected));
  a.check_size({L.in, L.out}, (f.what("weight") + " size").c_str());
  ChainLayerSource s;
  s.weight = f.floats("weight", (int64_t)L.in * L.out);
  L.bias = f.floats_or_null("bias", L.out);
  double range[2];
  f.range("clamp", -kInf, kInf, range);
  L.lo = (float)range[0], L.hi = (float)range[1];
  s.need = cnn::linear_chain_packed_floats(L.out, L.in);
  s.buf = f.floats("packed", s.need + kPackedExtra);
  pack_chain_layer(L, s, f.boolean("fresh"));
  if (source) *source = s;
  return L;
}

void pack_chain_layer(cnn::ChainLayer& L, const ChainLayerSource& s, bool fresh) {
  const cnn::Isa isa = cnn::active_isa();
  float* data = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(s.buf) + 63) & ~uintptr_t(63));
  float* tag = s.buf + s.need + 16;
  if (fresh || tag[0] != (float)((int)isa + 1) || tag[1] != (float)(data - s.buf)) {
    cnn::sgemm_pack_bt(isa, L.out, L.in, s.weight, L.in, data);
    tag[0] = (float)((int)isa + 1), tag[1] = (float)(data - s.buf);
  }
  L.packed = data;
}

std::vector<cnn::ChainLayer> read_chain_layers(const Args& a, const Fields& f, std::vector<ChainLayerSource>* sources) {
  const Napi::Value lv = f.get("layers");
  if (!lv.IsArray()) a.type_error("expected an array of layer objects for " + f.what("layers"));
  const Napi::Array arr = lv.As<Napi::Array>();
  if (arr.Length() < 1 || arr.Length() > 64) a.range_error(f.what("layers") + " must hold 1 to 64 layers");
  std::vector<cnn::ChainLayer> layers;
  if (sources) sources->resize(arr.Length());
  for (uint32_t l = 0; l < arr.Length(); ++l)
    layers.push_back(read_chain_layer(a, arr.Get(l), l, l ? layers.back().out : -1, sources ? &(*sources)[l] : nullptr));
  return layers;
}

}  // namespace cnn_binding
