// How much memory one training step will take, from the model and the input size, checked before
// anything is allocated: resnet18 at --image-size 1024 --batch-size 32 used to grow past 8 GB
// and be killed by the system instead of refused with a reason.
import { freemem } from 'node:os';
import type { ModelSummary } from '../nn/summary.js';
import { ConfigError } from '../errors.js';

/**
 * Backward keeps each layer's output, its gradient and what the kernels save (BatchNorm's
 * normalized input, pooling indices, im2col blocks): about three times the forward outputs.
 */
const ACTIVATION_FACTOR = 3;

export interface StepMemory {
  /** Weights, their gradients and the optimizer's per-parameter state. */
  modelBytes: number;
  /** Layer outputs of a batch and what backward needs of them. */
  activationBytes: number;
  totalBytes: number;
}

/** `optimizerSlots`: tensors the optimizer keeps per parameter (Adam 2, SGD with momentum 1). */
export function estimateStepMemory(summary: ModelSummary, batchSize: number, optimizerSlots: number): StepMemory {
  const modelBytes = summary.paramBytes * (2 + optimizerSlots);
  const activationBytes = summary.activationBytes * batchSize * ACTIVATION_FACTOR;
  return { modelBytes, activationBytes, totalBytes: modelBytes + activationBytes };
}

/** Memory this process can still get: the system's available memory, or less under a cgroup limit. */
export function availableMemory(): number {
  const limit = process.constrainedMemory?.() ?? 0;
  const free = freemem();
  return limit > 0 ? Math.min(limit, free) : free;
}

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** "8G", "512M", "1.5GB", "1000000" → bytes; NaN when it is not a size. */
export function parseMemorySize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
  return m ? Math.round(Number(m[1]) * UNITS[m[2]!.toUpperCase()]!) : NaN;
}

export function formatBytes(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GB` : `${Math.ceil(n / 2 ** 20)} MB`;
}

/** Throws a ConfigError with the estimate when a step would not fit in `limit` bytes. */
export function checkStepMemory(estimate: StepMemory, limit: number, what: string, limitSource: string): void {
  if (estimate.totalBytes <= limit) return;
  throw new ConfigError(`a training step of ${what} needs about ${formatBytes(estimate.totalBytes)} `
    + `(model, gradients and optimizer ${formatBytes(estimate.modelBytes)}, activations ${formatBytes(estimate.activationBytes)}) `
    + `but ${limitSource} is ${formatBytes(limit)}; lower --batch-size or --image-size, or set the limit with --max-memory`);
}
