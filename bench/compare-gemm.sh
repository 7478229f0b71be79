#!/usr/bin/env bash
# Compares cnn's SGEMM with OpenBLAS on the shapes `cnn bench gemm` measures, at each thread
# count given (default: 1 2). Needs a built addon (bin/cnn.js) and libopenblas-dev.
#
#   bench/compare-gemm.sh [THREADS ...]
#
# Both sides report the median of >= 5 timed calls after 2 warm-ups. The machine should be
# otherwise idle: a concurrent build easily moves either column by 10-30%.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
threads=("$@")
[ ${#threads[@]} -gt 0 ] || threads=(1 2)
for t in "${threads[@]}"; do
  [[ $t =~ ^[1-9][0-9]*$ ]] || { echo "compare-gemm: thread counts must be positive integers, got '$t'" >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -o "$tmp/openblas_gemm" "$root/bench/openblas_gemm.c" -lopenblas

for t in "${threads[@]}"; do
  node "$root/bin/cnn.js" bench gemm --json --threads "$t" > "$tmp/cnn-$t.jsonl"
  # The same shapes, in the same order, as cnn reported them.
  mapfile -t shapes < <(node -e '
    for (const line of require("fs").readFileSync(process.argv[1], "utf8").split("\n")) {
      if (!line.trim()) continue;
      const r = JSON.parse(line);
      console.log(`${r.m},${r.n},${r.k},${r.transA ? 1 : 0},${r.transB ? 1 : 0}`);
    }' "$tmp/cnn-$t.jsonl")
  OPENBLAS_NUM_THREADS=$t "$tmp/openblas_gemm" "${shapes[@]}" > "$tmp/openblas-$t.jsonl"
done

node -e '
  const fs = require("fs");
  const [dir, ...threads] = process.argv.slice(1);
  const read = (f) => fs.readFileSync(f, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  const key = (r) => `${r.m},${r.n},${r.k},${!!r.transA},${!!r.transB}`;
  const pad = (s, w) => String(s).padStart(w);
  console.log(`${pad("threads", 7)} ${pad("m", 6)} ${pad("n", 6)} ${pad("k", 6)} ${pad("op", 3)} ${pad("cnn_gflops", 10)} ${pad("openblas_gflops", 15)} ${pad("ratio", 6)}`);
  for (const t of threads) {
    const blas = new Map(read(`${dir}/openblas-${t}.jsonl`).map((r) => [key(r), r]));
    for (const r of read(`${dir}/cnn-${t}.jsonl`)) {
      const b = blas.get(key(r));
      const op = (r.transA ? "T" : "N") + (r.transB ? "T" : "N");
      const ratio = b ? (r.gflops / b.gflops).toFixed(3) : "-";
      console.log(`${pad(t, 7)} ${pad(r.m, 6)} ${pad(r.n, 6)} ${pad(r.k, 6)} ${pad(op, 3)} ${pad(r.gflops.toFixed(1), 10)} ${pad(b ? b.gflops.toFixed(1) : "-", 15)} ${pad(ratio, 6)}`);
    }
  }' "$tmp" "${threads[@]}"
