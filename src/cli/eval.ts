// `cnn eval checkpoint.bin`: loss, top-1, top-5, a per-class table and confusion_matrix.png.
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { makeFolder } from '../io/folders.js';
import { parseIntegerOption } from './errors.js';
import { addAllowNonFiniteOption, type AllowNonFiniteOption } from './nonfinite-option.js';
import { addThreadsOption, applyThreadsOption, type ThreadsOption } from './threads.js';
import { table } from './format.js';
import { TRAIN_OPTIONS } from '../train/options.js';
import { checkRow, type AnyOptionRow } from '../option-row.js';
import type { ClassReport } from '../train/metrics.js';
import type { EvalChoice } from '../train/eval-data.js';

/** --val-split and --eval-resize parse and check as `cnn train`'s rows do. */
function trainRowParser(key: 'valSplit' | 'evalResize') {
  const row = TRAIN_OPTIONS.find((r) => r.key === key)! as AnyOptionRow;
  return (raw: string): number => {
    const value = row.parse!(raw) as number;
    checkRow(row, value);
    return value;
  };
}

interface EvalOptions extends ThreadsOption, AllowNonFiniteOption, EvalChoice {
  out?: string;
  json?: boolean;
}

export function addEvalCommand(program: Command): void {
  addThreadsOption(addAllowNonFiniteOption(program.command('eval')
    .description('evaluate a checkpoint on the validation set of the run that wrote it (or another split)')
    .argument('<checkpoint>', 'a .bin checkpoint written by cnn train')
    .option('--dataset <name>', 'dataset (default: the one in the checkpoint)')
    .option('--split <name>', 'split to evaluate (default: the run\'s validation set: its --val-split share of train, or its held-out split)')
    .option('--data-dir <dir>', 'where datasets live, or the image folder (default: the run\'s, else $CNN_DATA, else ./data)')
    .option('--val-split <x>', 'evaluate this fraction of train, split with the run\'s seed (default: the run\'s)', trainRowParser('valSplit'))
    .option('--eval-resize <n>', 'image files: Resize(n) before the centre crop (default: the run\'s)', trainRowParser('evalResize'))
    .option('--crop <n>', 'image files: CenterCrop(n) (default: the run\'s image size)', parseIntegerOption('crop', 1, 8192))
    .option('--batch-size <n>', 'images per forward pass (default: 256, 64 for image files)', parseIntegerOption('batch-size', 1, 65536))
    .option('--out <dir>', 'folder for confusion_matrix.png (default: beside the checkpoint)')
    .option('--json', 'print one JSON object')))
    .action(async (checkpoint: string, o: EvalOptions) => {
      await applyThreadsOption(o);
      const { evaluateCheckpoint } = await import('../train/evaluate.js');
      const { renderConfusionMatrix } = await import('../viz/confusion.js');
      const { averageReports } = await import('../train/metrics.js');
      const r = await evaluateCheckpoint(checkpoint, { ...o, allowNonFinite: o.allowNonfinite });
      const outDir = o.out ?? dirname(checkpoint);
      makeFolder(outDir);
      const imagePath = join(outDir, 'confusion_matrix.png');
      await renderConfusionMatrix(r.confusion.counts, r.classes, imagePath);
      const perClass = r.confusion.report();
      const averages = averageReports(perClass);
      if (o.json) {
        console.log(JSON.stringify({
          checkpoint, dataset: r.dataset, split: r.split, source: r.source, runValidation: r.runValidation, transform: r.transform, count: r.count, loss: r.loss, top1: r.accuracy, top5: r.top5,
          perClass, macroAvg: averages.macro, weightedAvg: averages.weighted, confusionMatrix: r.confusion.counts, confusionMatrixImage: imagePath,
        }));
        return;
      }
      console.log(`${checkpoint} on ${r.dataset} ${r.split} (${r.count} images): ${r.source}${r.runValidation ? ' — the run\'s validation set' : ''}${r.transform ? `; ${r.transform}` : ''}`);
      console.log(`loss ${r.loss.toFixed(4)}  top-1 ${(100 * r.accuracy).toFixed(2)}%  top-5 ${(100 * r.top5).toFixed(2)}%`);
      console.log('');
      const f = (v: number) => v.toFixed(3);
      const row = (name: string, c: Omit<ClassReport, 'name'>) => [name, f(c.precision), f(c.recall), f(c.f1), String(c.support)];
      console.log(table(['class', 'precision', 'recall', 'f1', 'support'],
        [...perClass.map((c) => row(c.name, c)), row('macro avg', averages.macro), row('weighted avg', averages.weighted)], new Set([1, 2, 3, 4])));
      console.log('');
      console.log(`confusion matrix: ${imagePath}`);
    });
}
