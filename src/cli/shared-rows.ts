// Option rows that several commands share (each command's own rows live in its file). Defining
// them loads neither the addon nor sharp, so `cnn --help` stays fast.
import { Argument } from 'commander';
import { numberRow, switchRow, textRow, choiceRow, type OptionRow } from '../option-row.js';
import { UserError } from './errors.js';

const group = 'command';

/** The first argument of the commands that read a checkpoint. */
export const CHECKPOINT_ARGUMENT = new Argument('<checkpoint>', 'a .bin checkpoint written by cnn train');

export const jsonRow = (help: string) => switchRow('json', '--json', { help, group });

export const ALLOW_NONFINITE_ROW = switchRow('allowNonFinite', '--allow-nonfinite', { help: 'load a checkpoint even if its weights hold NaN or Inf', group });

export const ALLOW_SVG_ROW = switchRow('allowSvg', '--allow-svg', { help: 'render SVG drawings (refused by default: their cost is the drawing, not the pixels)', group });

export const MAX_PIXELS_ROW = numberRow('maxPixels', '--max-pixels <n>', {
  integer: true, min: 1, defaultText: '67108864, 64 megapixels', help: 'refuse images with more pixels than this', group,
});

export const NEWEST_CHECKPOINT_ROW = textRow('checkpoint', '--checkpoint <file>', { defaultText: 'the newest runs/**/best.bin', help: 'checkpoint', group });

/** --model; the registry refuses an unknown name with its list when the model is built. */
const MODEL_HELP = 'model from `cnn models`';
export const MODEL_ROW = textRow('model', '--model <name>', { help: MODEL_HELP, group, required: true });
export const modelRow = (defaultText: string) => textRow('model', '--model <name>', { help: MODEL_HELP, group, defaultText });

/** "3x32x32" → [3, 32, 32]. */
function parseInputShape(value: string): [number, number, number] {
  const parts = value.toLowerCase().split('x').map((p) => Number(p));
  if (parts.length !== 3 || parts.some((p) => !Number.isInteger(p) || p < 1 || p > 8192)) {
    throw new UserError(`Expected CxHxW (e.g. 3x32x32) for --input but received '${value}'`);
  }
  return parts as [number, number, number];
}

export const INPUT_ROW: OptionRow<'input', [number, number, number]> = {
  key: 'input', flag: '--input <CxHxW>', group, defaultText: "the model's own", help: 'input shape',
  parse: parseInputShape, check: () => undefined,
};

export const STEM_ROW = choiceRow('stem', '--stem <kind>', () => ['imagenet', 'cifar'] as const, {
  defaultText: 'imagenet', help: 'ResNet stem: imagenet, or cifar (3×3 stride-1, no max-pool)', group,
});
