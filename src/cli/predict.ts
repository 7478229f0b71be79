// `cnn predict checkpoint.bin image.png [...]`: top-k classes with probabilities per image.
import type { Command } from 'commander';
import { numberRow } from '../option-row.js';
import { CHECKPOINT_ARGUMENT, ALLOW_NONFINITE_ROW, ALLOW_SVG_ROW, jsonRow } from './shared-rows.js';
import { computingCommand, type CommandOptions } from './threads.js';

const PREDICT_ROWS = [
  numberRow('topK', '--top-k <k>', { integer: true, min: 1, max: 1000, default: 5, help: 'classes to show per image', group: 'command' }),
  ALLOW_SVG_ROW,
  ALLOW_NONFINITE_ROW,
  jsonRow('one JSON object per image, per line'),
] as const;

export function addPredictCommand(program: Command): void {
  computingCommand(program, 'predict', 'classify images with a checkpoint', PREDICT_ROWS)
    .addArgument(CHECKPOINT_ARGUMENT)
    .argument('<images...>', 'PNG, JPEG or WebP files')
    .action(async (checkpoint: string, images: string[], o: CommandOptions<typeof PREDICT_ROWS>) => {
      const { modelFromCheckpoint } = await import('../train/checkpoint.js');
      const { predictFile } = await import('../train/predict.js');
      const loaded = modelFromCheckpoint(checkpoint, { allowNonFinite: o.allowNonFinite });
      const k = Math.min(o.topK, loaded.checkpoint.dataset.classes.length);
      for (const file of images) {
        const p = await predictFile(loaded.model, loaded.checkpoint.dataset, file, k, { allowSvg: o.allowSvg });
        if (o.json) {
          console.log(JSON.stringify(p));
        } else {
          console.log(file);
          for (const t of p.top) console.log(`  ${(100 * t.prob).toFixed(2).padStart(6)}%  ${t.class} (${t.index})`);
        }
      }
    });
}
