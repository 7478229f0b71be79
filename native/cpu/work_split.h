// How the memory-bound kernels (elementwise, activations, normalization, optimizers) hand out
// work: schedule(dynamic) in chunks of about kChunkFloats floats. A static split gives each
// thread its share up front, so on a shared CPU a region waits for whichever thread the OS
// descheduled; with chunks the running threads take over its share (issue 13). 16K floats
// (64 KiB) keep the chunk count per call in the hundreds at most for activations of a few MB,
// and a chunk's grab (one atomic add) is ~0.1% of its work.
#pragma once
#include <algorithm>
#include <cstdint>

namespace cnn {

constexpr int64_t kChunkFloats = 1 << 14;

// Iterations per chunk for a loop whose iterations each touch `floats_per_item` floats.
inline int64_t chunk_items(int64_t floats_per_item) {
  return std::max<int64_t>(1, kChunkFloats / std::max<int64_t>(1, floats_per_item));
}

// body(begin, length) over [0, n) in chunks of kChunkFloats handed out dynamically: for loops
// that run per ISA on a whole chunk at a time. One thread below parallel_min elements.
template <class Body>
void for_each_chunk(int64_t n, int threads, int64_t parallel_min, Body body) {
  const int64_t chunks = (n + kChunkFloats - 1) / kChunkFloats;
#pragma omp parallel for num_threads(threads) schedule(dynamic) if (threads > 1 && n >= parallel_min)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = c * kChunkFloats;
    body(begin, std::min(n, begin + kChunkFloats) - begin);
  }
}

}  // namespace cnn
