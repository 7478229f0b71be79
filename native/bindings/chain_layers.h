// The Linear layers of linearChainForward and smallNetForward: {inFeatures, outFeatures, weight,
// bias, clamp: [lo, hi], packed, fresh} each, the weights packed into the caller's buffer when fresh.
#pragma once
#include <napi.h>

#include <cstdint>
#include <vector>

#include "bindings/args.h"
#include "gemm/small_chain.h"

namespace cnn_binding {

// A layer's packed buffer holds linear_chain_packed_floats and this many floats more.
constexpr int64_t kPackedExtra = 16 + 2;

// Where a layer's weights are packed from and into, for callers that keep a parsed layer and
// pack it again later (pack_chain_layer) without reading its fields.
struct ChainLayerSource {
  const float* weight;
  float* buf;
  int64_t need;
};

// Layer l (its inFeatures must equal in_expected unless that is negative), packed; its source
// into *source unless that is null.
cnn::ChainLayer read_chain_layer(const Args& a, Napi::Value v, uint32_t l, int in_expected, ChainLayerSource* source = nullptr);
// f.layers: 1 to 64 layers, each one's inFeatures the previous one's outFeatures.
std::vector<cnn::ChainLayer> read_chain_layers(const Args& a, const Fields& f, std::vector<ChainLayerSource>* sources = nullptr);
// L's weights packed for the active ISA where fresh, or where they were packed for another ISA or offset.
void pack_chain_layer(cnn::ChainLayer& L, const ChainLayerSource& s, bool fresh);

}  // namespace cnn_binding
