// for_each_share hands every item out exactly once: counts per item over item counts that leave
// uneven shares and partial grabs, team sizes of 1-20 (over 16: cursors on the heap), and from
// inside another parallel region, where the inner team has one thread and takes every share as
// leftovers.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>

#include "cpu/work_split.h"
#include "test/check.h"

using namespace cnn;

namespace {

// Runs for_each_share(n, per, threads, parallel); the first item that did not run exactly once,
// or -1. Called from several threads at once (the nested cases), so it only returns.
int64_t first_not_once(int64_t n, int64_t per, int threads, bool parallel) {
  std::unique_ptr<std::atomic<int>[]> runs(new std::atomic<int>[n > 0 ? n : 1]);
  for (int64_t i = 0; i < n; ++i) runs[i].store(0);
  for_each_share(n, per, threads, parallel, [&](int64_t i) { runs[i].fetch_add(1); });
  for (int64_t i = 0; i < n; ++i)
    if (runs[i].load() != 1) return i;
  return -1;
}

void report(const std::string& name, int64_t bad) {
  if (bad < 0) {
    ++g_pass;
    return;
  }
  std::printf("FAIL %s: item %lld did not run exactly once\n", name.c_str(), (long long)bad);
  ++g_fail;
}

std::string case_name(const char* where, int64_t n, int64_t per, int threads, bool parallel) {
  return std::string("for_each_share ") + where + " n " + std::to_string(n) + " per " + std::to_string(per) +
         " threads " + std::to_string(threads) + (parallel ? "" : " serial");
}

}  // namespace

void test_work_split() {
  for (int64_t n : {0, 1, 2, 5, 17, 1000, 4097})
    for (int64_t per : {0, 1, 3, 64})
      for (int threads : {1, 2, 3, 8, 20})
        for (bool parallel : {false, true}) {
          report(case_name("top", n, per, threads, parallel), first_not_once(n, per, threads, parallel));
          int64_t bad[2] = {-1, -1};
#pragma omp parallel num_threads(2)
          bad[omp_get_thread_num()] = first_not_once(n, per, threads, parallel);
          report(case_name("nested", n, per, threads, parallel), std::max(bad[0], bad[1]));
        }
}
