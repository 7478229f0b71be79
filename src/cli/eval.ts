// `cnn eval checkpoint.bin`: loss, top-1, top-5, a per-class table and confusion_matrix.png.
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { makeFolder } from '../io/folders.js';
import { parseIntegerOption } from './errors.js';
import { addAllowNonFiniteOption, type AllowNonFiniteOption } from './nonfinite-option.js';
import { addThreadsOption, applyThreadsOption, type ThreadsOption } from './threads.js';
import { table } from './format.js';
import type { ClassReport } from '../train/metrics.js';

interface EvalOptions extends ThreadsOption, AllowNonFiniteOption {
  dataset?: string;
  split: string;
  dataDir?: string;
  batchSize?: number;
  out?: string;
  json?: boolean;
}

export function addEvalCommand(program: Command): void {
  addThreadsOption(addAllowNonFiniteOption(program.command('eval')
    .description('evaluate a checkpoint on its dataset\'s test split')
    .argument('<checkpoint>', 'a .bin checkpoint written by cnn train')
    .option('--dataset <name>', 'dataset (default: the one in the checkpoint)')
    .option('--split <name>', 'split to evaluate', 'test')
    .option('--data-dir <dir>', 'where datasets live (default: $CNN_DATA, else ./data)')
    .option('--batch-size <n>', 'images per forward pass (default: 256)', parseIntegerOption('batch-size', 1, 65536))
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
          checkpoint, dataset: r.dataset, split: r.split, count: r.count, loss: r.loss, top1: r.accuracy, top5: r.top5,
          perClass, macroAvg: averages.macro, weightedAvg: averages.weighted, confusionMatrix: r.confusion.counts, confusionMatrixImage: imagePath,
        }));
        return;
      }
      console.log(`${checkpoint} on ${r.dataset} ${r.split} (${r.count} images)`);
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
