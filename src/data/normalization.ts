// --normalize: the mean/std of a run's Normalize — the dataset's own statistics, ImageNet's (what a
// pretrained torchvision backbone expects), or given per channel as m1,m2,m3:s1,s2,s3.
import { ConfigError } from '../errors.js';
import { imagenetFacts } from './imagenet.js';

export type NormalizeSpec = 'dataset' | 'imagenet' | { mean: number[]; std: number[] };

export interface Normalization {
  mean: number[];
  std: number[];
}

const EXPECTED = 'dataset, imagenet or per-channel m1,m2,m3:s1,s2,s3 (std > 0)';

/** Why a spec is refused, or undefined when it is fine (the run spec's check). */
export function normalizeProblem(spec: NormalizeSpec): string | undefined {
  if (spec === 'dataset' || spec === 'imagenet') return undefined;
  const ok = typeof spec === 'object' && spec !== null && Array.isArray(spec.mean) && Array.isArray(spec.std)
    && spec.mean.length > 0 && spec.mean.length === spec.std.length
    && spec.mean.every(Number.isFinite) && spec.std.every((s) => Number.isFinite(s) && s > 0);
  return ok ? undefined : EXPECTED;
}

export function parseNormalize(raw: string): NormalizeSpec {
  if (raw === 'dataset' || raw === 'imagenet') return raw;
  const parts = raw.split(':');
  const numbers = (s: string) => s.split(',').map((v) => (v.trim() === '' ? NaN : Number(v)));
  const spec = parts.length === 2 ? { mean: numbers(parts[0]), std: numbers(parts[1]) } : null;
  if (!spec || normalizeProblem(spec)) throw new ConfigError(`Expected ${EXPECTED} for --normalize but received '${raw}'`, '--normalize');
  return spec;
}

/** A run's choice: --normalize as given, else ImageNet's for --pretrained weights, else the dataset's own. */
export function normalizeSpec(c: { normalize?: NormalizeSpec; pretrained?: boolean }): NormalizeSpec {
  return c.normalize ?? (c.pretrained ? 'imagenet' : 'dataset');
}

const average = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/** The statistics for images of `channels` channels whose own statistics are `own`. */
export function resolveNormalization(spec: NormalizeSpec, own: Normalization, channels: number): Normalization {
  if (spec === 'dataset') return { mean: [...own.mean], std: [...own.std] };
  const given = spec === 'imagenet' ? imagenetFacts().preprocessing : spec;
  if (given.mean.length === channels) return { mean: [...given.mean], std: [...given.std] };
  // Grayscale images with RGB statistics take their average (the gray plane is a mix of the three).
  if (channels === 1) return { mean: [average(given.mean)], std: [average(given.std)] };
  if (given.mean.length === 1) return { mean: new Array<number>(channels).fill(given.mean[0]), std: new Array<number>(channels).fill(given.std[0]) };
  throw new ConfigError(`--normalize gives ${given.mean.length} values per statistic but the images have ${channels} channels`, '--normalize');
}
