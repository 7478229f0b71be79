// --init FILE: a new run starts from weights in a cnn checkpoint, a safetensors state dict or a
// PyTorch .pth. Tensors whose shape does not fit (the old head) keep their fresh initialisation;
// keys that match nothing are an error unless --init-non-strict, so a wrong --model cannot load
// "successfully" into nothing. RGB weights for a grayscale model adapt the first convolution.
import { ConfigError } from '../errors.js';
import type { Module } from '../nn/module.js';
import { adaptInputConv } from '../nn/adapt-input.js';
import { loadWeights, WeightsError } from '../io/weights.js';

/** What --init did, for the start line. */
export interface InitReport {
  file: string;
  loaded: number;
  /** "fc.weight (shape [1000, 512] in the file, [3, 512] in the model)" for each skipped tensor. */
  skipped: string[];
  /** Model keys the file lacks and file keys the model lacks (only with --init-non-strict). */
  missing: string[];
  unexpected: string[];
  /** The first convolution's adaptation to the data's channels, if any. */
  adapted: string | null;
}

const MAX_NAMED = 8;

function named(keys: string[]): string {
  const shown = keys.slice(0, MAX_NAMED).join(', ');
  return keys.length > MAX_NAMED ? `${shown} and ${keys.length - MAX_NAMED} more` : shown;
}

export function initFromWeights(model: Module, file: string, nonStrict: boolean): InitReport {
  let weights;
  try {
    weights = loadWeights(file);
  } catch (err) {
    if (err instanceof WeightsError) throw new ConfigError(`--init: ${err.message}`, '--init');
    throw err;
  }
  const { tensors, note } = adaptInputConv(model, weights.tensors);
  const report = model.loadStateDict(tensors, { strict: false, skipMismatched: true });
  if (!nonStrict && (report.missing.length || report.unexpected.length)) {
    const parts = [
      ...(report.unexpected.length ? [`${report.unexpected.length} key(s) in the file match nothing in ${model.typeName}: ${named(report.unexpected)}`] : []),
      ...(report.missing.length ? [`${report.missing.length} tensor(s) of the model are not in the file: ${named(report.missing)}`] : []),
    ];
    throw new ConfigError(`--init ${file}: ${parts.join('; ')} (is --model right? --init-non-strict loads the keys that match)`, '--init');
  }
  return {
    file, loaded: report.loaded.length, skipped: report.skipped.map((s) => `${s.key} (${s.reason})`),
    missing: report.missing, unexpected: report.unexpected, adapted: note,
  };
}

/** The start line's sentence about --init. */
export function describeInit(r: InitReport): string {
  const parts = [`initialised from ${r.file}: ${r.loaded} tensor${r.loaded === 1 ? '' : 's'} loaded`];
  if (r.skipped.length) parts.push(`${r.skipped.length} skipped and re-initialised: ${r.skipped.join(', ')}`);
  if (r.missing.length) parts.push(`${r.missing.length} not in the file (kept fresh): ${named(r.missing)}`);
  if (r.unexpected.length) parts.push(`${r.unexpected.length} unused: ${named(r.unexpected)}`);
  if (r.adapted) parts.push(r.adapted);
  return parts.join('; ');
}
