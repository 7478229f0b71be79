#include "cpu/profile.h"

#include <thread>

namespace cnn {

namespace profile_detail {

std::atomic<bool> enabled{false};
namespace {
std::atomic<int64_t> totals[(int)ProfileCategory::Count];
// The timed thread's id, written before `enabled` turns on (release) and read after it (acquire
// through the relaxed load plus this one).
std::atomic<std::thread::id> timed{};
}  // namespace

bool timed_thread() { return timed.load(std::memory_order_acquire) == std::this_thread::get_id(); }

void add(ProfileCategory c, int64_t ns) { totals[(int)c].fetch_add(ns, std::memory_order_relaxed); }

}  // namespace profile_detail

void profile_enable(bool on) {
  if (on) profile_detail::timed.store(std::this_thread::get_id(), std::memory_order_release);
  profile_detail::enabled.store(on, std::memory_order_release);
}

void profile_read(double* seconds, bool reset) {
  for (int c = 0; c < (int)ProfileCategory::Count; ++c) {
    auto& total = profile_detail::totals[c];
    seconds[c] = (reset ? total.exchange(0, std::memory_order_relaxed) : total.load(std::memory_order_relaxed)) * 1e-9;
  }
}

}  // namespace cnn
