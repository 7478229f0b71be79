// The file (or files) of a train/test split, for datasets published as one file set per split.
import { DatasetOptionError } from './errors.js';

export function splitFiles<T>(name: string, files: { train: T; test: T }, split: string): T {
  if (split !== 'train' && split !== 'test') throw new DatasetOptionError(`${name} has splits train and test, not ${JSON.stringify(split)}`);
  return files[split];
}
