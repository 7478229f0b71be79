// How the memory-bound kernels (elementwise, activations, normalization, pooling, optimizers) hand
// out work: in items of about kChunkFloats floats, by for_each_share below in BatchNorm, the
// elementwise loops, binary ops, max pooling, dropout, Adam and SGD, and by schedule(dynamic) in
// the rest (not measured to lose by it yet). A plain static split gives each thread its share up
// front, so on a shared CPU a region waits for whichever thread the OS descheduled; here the
// running threads take over its items (issue 13). 16K floats (64 KiB) keep the item count per call
// in the hundreds at most for activations of a few MB, and an item's grab (one atomic add) is
// ~0.1% of its work.
#pragma once
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>

namespace cnn {

constexpr int64_t kChunkFloats = 1 << 14;

// Iterations per chunk for a loop whose iterations each touch `floats_per_item` floats.
inline int64_t chunk_items(int64_t floats_per_item) {
  return std::max<int64_t>(1, kChunkFloats / std::max<int64_t>(1, floats_per_item));
}

// body(i) for i in [0, n) over a team of `threads`: each thread first runs its own contiguous
// share in order, as schedule(static) would, then takes what is left of the others' shares, as
// schedule(dynamic, per) would, `per` items at a grab (one atomic add). On a quiet machine every
// thread runs exactly its static share: neighbouring items stay on one core, where dynamic's
// interleaving put every other block of a BatchNorm on the other core, and the cores'
// prefetchers, running past a block's end, pulled in lines the other core then wrote (2-thread
// BatchNorm on 128x64x8x8, warm: 0.20 ms interleaved, 0.13 contiguous, 0.23 on one thread;
// resnet18's training step at 2 threads: BatchNorm 1.3-1.4x -> 1.8x its 1-thread speed). On a
// shared CPU, the running threads still take over a descheduled thread's items. Runs on one
// thread, in order, unless `parallel`.
template <class Body>
void for_each_share(int64_t n, int64_t per, int threads, bool parallel, Body body) {
  per = std::max<int64_t>(per, 1);
  const int shares = (int)std::min<int64_t>(std::max(threads, 1), (n + per - 1) / per);
  if (!parallel || shares <= 1) {
    for (int64_t i = 0; i < n; ++i) body(i);
    return;
  }
  struct alignas(64) Share {
    std::atomic<int64_t> next;
    int64_t end;
  };
  // The cursors on the stack for the usual teams, so that a call allocates nothing.
  constexpr int kStackShares = 16;
  Share on_stack[kStackShares];
  std::unique_ptr<Share[]> on_heap(shares > kStackShares ? new Share[shares] : nullptr);
  Share* share = on_heap ? on_heap.get() : on_stack;
  for (int s = 0; s < shares; ++s) {
    share[s].next.store(n * s / shares, std::memory_order_relaxed);
    share[s].end = n * (s + 1) / shares;
  }
#pragma omp parallel num_threads(shares)
  {
    // A team smaller than asked (a nested region gets one thread) leaves shares no thread starts
    // on: they are taken over as leftovers.
    const int me = omp_get_thread_num();
    Body mine = body;  // each thread calls its own copy
    for (int k = 0; k < shares; ++k) {
      Share& s = share[(me + k) % shares];
      for (int64_t i; (i = s.next.fetch_add(per, std::memory_order_relaxed)) < s.end;)
        for (int64_t j = i; j < std::min(i + per, s.end); ++j) mine(j);
    }
  }
}

// body(begin, length) over [0, n) in chunks of kChunkFloats, handed out by for_each_share: for
// loops that run per ISA on a whole chunk at a time. One thread below parallel_min elements.
template <class Body>
void for_each_chunk(int64_t n, int threads, int64_t parallel_min, Body body) {
  const int64_t chunks = (n + kChunkFloats - 1) / kChunkFloats;
  for_each_share(chunks, 1, threads, threads > 1 && n >= parallel_min, [&](int64_t c) {
    const int64_t begin = c * kChunkFloats;
    body(begin, std::min(n, begin + kChunkFloats) - begin);
  });
}

}  // namespace cnn
