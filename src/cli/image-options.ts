// Option parsers of the image commands, kept apart from image-model.ts so that defining the
// commands loads neither the addon nor sharp.
import { UserError } from './errors.js';

export const ALLOW_SVG_HELP = 'render SVG drawings (refused by default: their cost is the drawing, not the pixels)';

export function parseMaxPixels(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`Expected a positive integer for --max-pixels but received '${value}'`);
  return n;
}
