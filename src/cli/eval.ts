// `cnn eval checkpoint.bin`: loss, top-1, top-5, a per-class table and confusion_matrix.png.
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { makeFolder } from '../io/folders.js';
import { computingCommand, type CommandOptions } from './threads.js';
import { CHECKPOINT_ARGUMENT, ALLOW_NONFINITE_ROW, jsonRow } from './shared-rows.js';
import { table } from './format.js';
import { TRAIN_OPTIONS } from '../train/options.js';
import { numberRow, textRow, type OptionRow } from '../option-row.js';
import type { ClassReport } from '../train/metrics.js';

const group = 'command';

/** `cnn train`'s row for key (its parse and check), with eval's help and no default. */
function trainRow<K extends 'valSplit' | 'evalResize'>(key: K, help: string, defaultText: string): OptionRow<K, number> {
  const row = TRAIN_OPTIONS.find((r) => r.key === key)! as OptionRow<K, number>;
  return { key, flag: row.flag, parse: row.parse, check: row.check, help, defaultText, group };
}

const EVAL_ROWS = [
  textRow('dataset', '--dataset <name>', { defaultText: 'the one in the checkpoint', help: 'dataset', group }),
  textRow('split', '--split <name>', { defaultText: "the run's validation set: its --val-split share of train, or its held-out split", help: 'split to evaluate', group }),
  textRow('dataDir', '--data-dir <dir>', { defaultText: "the run's, else $CNN_DATA, else ./data", help: 'where datasets live, or the image folder', group }),
  trainRow('valSplit', "evaluate this fraction of train, split with the run's seed", "the run's"),
  trainRow('evalResize', 'image files: Resize(n) before the centre crop', "the run's"),
  numberRow('crop', '--crop <n>', { integer: true, min: 1, max: 8192, defaultText: "the run's image size", help: 'image files: CenterCrop(n)', group }),
  numberRow('batchSize', '--batch-size <n>', { integer: true, min: 1, max: 65536, defaultText: '256, 64 for image files', help: 'images per forward pass', group }),
  textRow('out', '--out <dir>', { defaultText: 'beside the checkpoint', help: 'folder for confusion_matrix.png', group }),
  ALLOW_NONFINITE_ROW,
  jsonRow('print one JSON object'),
] as const;

export function addEvalCommand(program: Command): void {
  computingCommand(program, 'eval', 'evaluate a checkpoint on the validation set of the run that wrote it (or another split)', EVAL_ROWS)
    .addArgument(CHECKPOINT_ARGUMENT)
    .action(async (checkpoint: string, o: CommandOptions<typeof EVAL_ROWS>) => {
      const [{ evaluateCheckpoint }, { renderConfusionMatrix }, { averageReports }] = await Promise.all([
        import('../train/evaluate.js'), import('../viz/confusion.js'), import('../train/metrics.js')]);
      const r = await evaluateCheckpoint(checkpoint, o);
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
