// Options that pick and shape a model, shared by summary, models and train.
import { UserError } from './errors.js';

/** "3x32x32" → [3, 32, 32]. */
export function parseInputShape(value: string): [number, number, number] {
  const parts = value.toLowerCase().split('x').map((p) => Number(p));
  if (parts.length !== 3 || parts.some((p) => !Number.isInteger(p) || p < 1 || p > 8192)) {
    throw new UserError(`Expected CxHxW (e.g. 3x32x32) for --input but received '${value}'`);
  }
  return parts as [number, number, number];
}

export function parseStem(value: string): 'imagenet' | 'cifar' {
  if (value !== 'imagenet' && value !== 'cifar') throw new UserError(`Expected imagenet or cifar for --stem but received '${value}'`);
  return value;
}
