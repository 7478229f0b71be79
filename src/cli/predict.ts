// `cnn predict checkpoint.bin image.png [...]`: top-k classes with probabilities per image.
import type { Command } from 'commander';
import { parseIntegerOption } from './errors.js';
import { ALLOW_SVG_HELP } from './image-options.js';
import { addAllowNonFiniteOption, type AllowNonFiniteOption } from './nonfinite-option.js';
import { addThreadsOption, applyThreadsOption, type ThreadsOption } from './threads.js';

export function addPredictCommand(program: Command): void {
  addThreadsOption(addAllowNonFiniteOption(program.command('predict')
    .description('classify images with a checkpoint')
    .argument('<checkpoint>', 'a .bin checkpoint written by cnn train')
    .argument('<images...>', 'PNG, JPEG or WebP files')
    .option('--top-k <k>', 'classes to show per image', parseIntegerOption('top-k', 1, 1000), 5)
    .option('--allow-svg', ALLOW_SVG_HELP)
    .option('--json', 'one JSON object per image, per line')))
    .action(async (checkpoint: string, images: string[], o: ThreadsOption & AllowNonFiniteOption & { topK: number; json?: boolean; allowSvg?: boolean }) => {
      await applyThreadsOption(o);
      const { modelFromCheckpoint } = await import('../train/checkpoint.js');
      const { predictFile } = await import('../train/predict.js');
      const loaded = modelFromCheckpoint(checkpoint, { allowNonFinite: o.allowNonfinite });
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
