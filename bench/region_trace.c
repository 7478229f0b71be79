// LD_PRELOAD shim for bench/region-trace: times every OpenMP parallel region libgomp starts
// (GOMP_parallel), keyed by its outlined function: how many ran with a team and how many alone
// (the `if` clause said no), the team's wall time, each of the first two threads' busy time
// (inside the region, less the time in barriers and loop ends), how late the second thread started
// and how long the region took to end after the last thread finished, and a histogram of the gaps
// between one team region's end and the next one's start. Written at exit to $REGION_TRACE_OUT;
// the gaps summed by the pair of regions around them, the 20 largest, to $REGION_TRACE_OUT.gaps.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <omp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void (*region_fn)(void*);

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

enum { kMaxRegions = 4096, kGapBins = 8 };
static const int64_t kGapEdgesUs[kGapBins - 1] = {2, 5, 15, 50, 100, 200, 1000};

struct region_stats {
  void* fn;
  long alone, team;
  int64_t wall, busy[2], wait[2], start1, tail;
};
static struct region_stats stats[kMaxRegions];
static int nstats;
static long gaps[kGapBins];
static int64_t last_team_end;
static void* last_team_fn;
// The time between team regions summed by the pair of regions around it: what the other threads
// wait out while the master runs serial code (JavaScript, the binding, a kernel's serial part).
enum { kMaxPairs = 4096 };
struct gap_pair {
  void *before, *after;
  long count;
  int64_t total;
};
static struct gap_pair pairs[kMaxPairs];
static int npairs;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static __thread int64_t waited;  // this thread's time in barriers during the current region

struct call {
  region_fn fn;
  void* data;
  int64_t busy[2], wait[2], start[2], end[2];
};

static void timed(void* p) {
  struct call* c = p;
  const int t = omp_get_thread_num();
  const int64_t s = now_ns();
  waited = 0;
  c->fn(c->data);
  const int64_t e = now_ns();
  if (t < 2) c->busy[t] = e - s - waited, c->wait[t] = waited, c->start[t] = s, c->end[t] = e;
}

#define WRAP_WAIT(name)                                   \
  void name(void) {                                       \
    static void (*real)(void);                            \
    if (!real) real = (void (*)(void))dlsym(RTLD_NEXT, #name); \
    const int64_t s = now_ns();                           \
    real();                                               \
    waited += now_ns() - s;                               \
  }
WRAP_WAIT(GOMP_barrier)
WRAP_WAIT(GOMP_loop_end)

static struct region_stats* find(void* fn) {
  for (int i = 0; i < nstats; ++i)
    if (stats[i].fn == fn) return &stats[i];
  if (nstats < kMaxRegions) stats[nstats].fn = fn;
  return &stats[nstats < kMaxRegions ? nstats++ : kMaxRegions - 1];
}

void GOMP_parallel(region_fn fn, void* data, unsigned threads, unsigned flags) {
  static void (*real)(region_fn, void*, unsigned, unsigned);
  if (!real) real = (void (*)(region_fn, void*, unsigned, unsigned))dlsym(RTLD_NEXT, "GOMP_parallel");
  struct call c;
  memset(&c, 0, sizeof c);
  c.fn = fn, c.data = data;
  const int64_t t0 = now_ns();
  real(timed, &c, threads, flags);
  const int64_t t1 = now_ns();
  pthread_mutex_lock(&mu);
  struct region_stats* s = find((void*)fn);
  if (!c.start[1]) {
    ++s->alone;
  } else {
    if (last_team_end) {
      int bin = 0;
      while (bin < kGapBins - 1 && (t0 - last_team_end) / 1000 >= kGapEdgesUs[bin]) ++bin;
      ++gaps[bin];
      int i = 0;
      while (i < npairs && (pairs[i].before != last_team_fn || pairs[i].after != (void*)fn)) ++i;
      if (i == npairs && npairs < kMaxPairs) pairs[npairs++] = (struct gap_pair){last_team_fn, (void*)fn, 0, 0};
      if (i < kMaxPairs) ++pairs[i].count, pairs[i].total += t0 - last_team_end;
    }
    last_team_end = t1;
    last_team_fn = (void*)fn;
    ++s->team;
    s->wall += t1 - t0;
    for (int t = 0; t < 2; ++t) s->busy[t] += c.busy[t], s->wait[t] += c.wait[t];
    s->start1 += c.start[1] - t0;
    s->tail += t1 - (c.end[0] > c.end[1] ? c.end[0] : c.end[1]);
  }
  pthread_mutex_unlock(&mu);
}

// Most time lost first: the team's wall time less the average thread's busy time.
static int64_t lost(const struct region_stats* s) { return s->wall - (s->busy[0] + s->busy[1]) / 2; }
static int by_total(const void* a, const void* b) {
  const int64_t x = ((const struct gap_pair*)a)->total, y = ((const struct gap_pair*)b)->total;
  return x < y ? 1 : x > y ? -1 : 0;
}
static int by_lost(const void* a, const void* b) {
  const int64_t x = lost(a), y = lost(b);
  return x < y ? 1 : x > y ? -1 : 0;
}

// The shared object holding fn and fn's offset in it.
static const char* locate(void* fn, uintptr_t* offset) {
  Dl_info d;
  *offset = 0;
  if (!dladdr(fn, &d) || !d.dli_fname) return "?";
  *offset = (uintptr_t)fn - (uintptr_t)d.dli_fbase;
  return d.dli_fname;
}

__attribute__((destructor)) static void report(void) {
  const char* path = getenv("REGION_TRACE_OUT");
  FILE* f = path ? fopen(path, "w") : NULL;
  if (!f) return;
  qsort(stats, nstats, sizeof stats[0], by_lost);
  fprintf(f, "gaps_us");
  for (int b = 0; b < kGapBins; ++b) fprintf(f, " %s%lld:%ld", b == kGapBins - 1 ? ">=" : "<", (long long)kGapEdgesUs[b < kGapBins - 1 ? b : b - 1], gaps[b]);
  fprintf(f, "\n");
  for (int i = 0; i < nstats; ++i) {
    const struct region_stats* s = &stats[i];
    uintptr_t offset;
    const char* object = locate(s->fn, &offset);
    const double team = s->team ? (double)s->team : 1.0;
    fprintf(f, "%s 0x%lx %ld %ld %.3f %.3f %.3f %.3f %.3f %.1f %.1f\n", object, (unsigned long)offset, s->alone, s->team,
            s->wall / 1e6, s->busy[0] / 1e6, s->busy[1] / 1e6, s->wait[0] / 1e6, s->wait[1] / 1e6, s->start1 / 1e3 / team,
            s->tail / 1e3 / team);
  }
  fclose(f);
  // Then the gaps' largest pairs: before and after region, count, total ms.
  char gap_path[4096];
  snprintf(gap_path, sizeof gap_path, "%s.gaps", path);
  if (!(f = fopen(gap_path, "w"))) return;
  qsort(pairs, npairs, sizeof pairs[0], by_total);
  for (int i = 0; i < npairs && i < 20; ++i) {
    uintptr_t o1, o2;
    const char* a = locate(pairs[i].before, &o1);
    const char* b = locate(pairs[i].after, &o2);
    fprintf(f, "%s 0x%lx %s 0x%lx %ld %.3f\n", a, (unsigned long)o1, b, (unsigned long)o2, pairs[i].count,
            pairs[i].total / 1e6);
  }
  fclose(f);
}
