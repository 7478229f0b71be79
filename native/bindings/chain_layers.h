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

// Layer l (its inFeatures must equal in_expected unless that is negative).
cnn::ChainLayer read_chain_layer(const Args& a, Napi::Value v, uint32_t l, int in_expected);
// f.layers: 1 to 64 layers, each one's inFeatures the previous one's outFeatures.
std::vector<cnn::ChainLayer> read_chain_layers(const Args& a, const Fields& f);

}  // namespace cnn_binding
