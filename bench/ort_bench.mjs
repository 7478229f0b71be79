#!/usr/bin/env node
// onnxruntime's side of bench/compare: images/s of an eval forward of an ONNX model that
// PyTorch exported (bench/torch_bench.py export), with onnxruntime-node (a dev dependency) at
// the given intra-op threads. Prints one JSON line in the form of `cnn bench eval --json`.
// Usage: ort_bench.mjs FILE.onnx MODEL CxHxW BATCH THREADS STEPS
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';

const [file, model, shape, batchText, threadsText, stepsText] = process.argv.slice(2);
const input = shape.toLowerCase().split('x').map(Number);
const [batch, threads, steps] = [batchText, threadsText, stepsText].map(Number);
const session = await ort.InferenceSession.create(readFileSync(file), {
  intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential',
});
const data = new Float32Array(batch * input.reduce((a, b) => a * b, 1));
for (let i = 0; i < data.length; i++) data[i] = Math.sin(0.37 * i);
const feeds = { input: new ort.Tensor('float32', data, [batch, ...input]) };
const step = async () => { await session.run(feeds); };
// Warm-up: at least 2 steps and 1 s, as `cnn bench`.
const start = performance.now();
for (let warm = 0; warm < 2 || performance.now() - start < 1000; warm++) await step();
const times = [];
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  await step();
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)] / 1000;
console.log(JSON.stringify({
  bench: 'eval', impl: `onnxruntime ${ort.env.versions?.common ?? ''}`.trim(), model, input, batch, threads,
  images_per_sec: batch / median, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
}));
await session.release();
