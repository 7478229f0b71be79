/* OpenBLAS reference for `cnn bench gemm`: times cblas_sgemm (row-major) on the same shapes,
 * the same way (random data in [-0.5, 0.5), 2 warm-up calls, then at least 5 timed calls and
 * about 1 s, median), and prints one JSON line per shape. Threads come from
 * OPENBLAS_NUM_THREADS, as OpenBLAS reads it.
 *
 *   cc -O2 -o openblas_gemm bench/openblas_gemm.c -lopenblas
 *   OPENBLAS_NUM_THREADS=2 ./openblas_gemm [m,n,k[,transA,transB] ...]
 *
 * Without arguments it runs the default shapes of `cnn bench gemm`. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int openblas_get_num_threads(void);

typedef struct { int m, n, k, ta, tb; } Shape;

static const Shape kDefaults[] = {
    {256, 256, 256, 0, 0},     {512, 512, 512, 0, 0},     {1024, 1024, 1024, 0, 0},
    {2048, 2048, 2048, 0, 0},  {64, 32768, 576, 0, 0},    {576, 1024, 64, 1, 0},
    {64, 576, 1024, 0, 1},
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static float* random_floats(size_t n, unsigned* state) {
  float* p = malloc(n * sizeof(float));
  if (!p) { fprintf(stderr, "out of memory\n"); exit(1); }
  for (size_t i = 0; i < n; ++i) {
    *state = *state * 1664525u + 1013904223u;
    p[i] = (float)(*state >> 8) / 16777216.0f - 0.5f;
  }
  return p;
}

static void run(Shape s) {
  unsigned state = 1;
  float* a = random_floats((size_t)s.m * s.k, &state);
  float* b = random_floats((size_t)s.k * s.n, &state);
  float* c = calloc((size_t)s.m * s.n, sizeof(float));
  const int lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n;
  const enum CBLAS_TRANSPOSE ta = s.ta ? CblasTrans : CblasNoTrans;
  const enum CBLAS_TRANSPOSE tb = s.tb ? CblasTrans : CblasNoTrans;
  enum { kMaxReps = 50 };
  double times[kMaxReps];
  int reps = 0;
  for (int i = 0; i < 2; ++i)
    cblas_sgemm(CblasRowMajor, ta, tb, s.m, s.n, s.k, 1.0f, a, lda, b, ldb, 0.0f, c, s.n);
  const double start = now();
  while (reps < kMaxReps) {
    const double t0 = now();
    cblas_sgemm(CblasRowMajor, ta, tb, s.m, s.n, s.k, 1.0f, a, lda, b, ldb, 0.0f, c, s.n);
    times[reps++] = now() - t0;
    if (reps >= 5 && now() - start >= 1.0) break;
  }
  qsort(times, reps, sizeof(double), cmp_double);
  const double median = reps % 2 ? times[reps / 2] : 0.5 * (times[reps / 2 - 1] + times[reps / 2]);
  printf("{\"op\":\"gemm\",\"impl\":\"openblas\",\"m\":%d,\"n\":%d,\"k\":%d,\"transA\":%s,"
         "\"transB\":%s,\"threads\":%d,\"gflops\":%.2f}\n",
         s.m, s.n, s.k, s.ta ? "true" : "false", s.tb ? "true" : "false",
         openblas_get_num_threads(), 2.0 * s.m * s.n * s.k / median / 1e9);
  fflush(stdout);
  free(a);
  free(b);
  free(c);
}

int main(int argc, char** argv) {
  if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
    fprintf(stderr, "usage: %s [m,n,k[,transA,transB] ...]\n", argv[0]);
    return 0;
  }
  if (argc == 1) {
    for (size_t i = 0; i < sizeof kDefaults / sizeof kDefaults[0]; ++i) run(kDefaults[i]);
    return 0;
  }
  for (int i = 1; i < argc; ++i) {
    Shape s = {0, 0, 0, 0, 0};
    const int got = sscanf(argv[i], "%d,%d,%d,%d,%d", &s.m, &s.n, &s.k, &s.ta, &s.tb);
    if (got != 3 && got != 5) {
      fprintf(stderr, "expected m,n,k or m,n,k,transA,transB but received '%s'\n", argv[i]);
      return 2;
    }
    if (s.m < 1 || s.n < 1 || s.k < 1) {
      fprintf(stderr, "sizes must be positive in '%s'\n", argv[i]);
      return 2;
    }
    run(s);
  }
  return 0;
}
