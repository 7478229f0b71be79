// `cnn summary`: one row per layer of a model — path, type, output shape, parameters,
// multiply-adds, receptive field — then totals.
import type { Command } from 'commander';
import { UserError, parseIntegerOption } from './errors.js';
import { parseInputShape, parseStem } from './model-options.js';
import { thousands, si, mebibytes, table } from './format.js';

interface SummaryOptions {
  model: string;
  input?: [number, number, number];
  numClasses?: number;
  stem?: 'imagenet' | 'cifar';
  json?: boolean;
}

export function addSummaryCommand(program: Command): void {
  program.command('summary')
    .description('per-layer output shapes, parameters, multiply-adds and receptive fields of a model')
    .requiredOption('--model <name>', 'model name (see `cnn models`)')
    .option('--input <CxHxW>', 'input shape (default: the model\'s own)', parseInputShape)
    .option('--num-classes <n>', 'number of classes', parseIntegerOption('num-classes', 1, 1_000_000))
    .option('--stem <kind>', 'ResNet stem: imagenet or cifar', parseStem)
    .option('--json', 'print one JSON object')
    .action(async (opts: SummaryOptions) => {
      const { getModel, buildModel } = await import('../models/registry.js');
      const { summarize } = await import('../nn/summary.js');
      let entry;
      try {
        entry = getModel(opts.model);
      } catch (err) {
        throw new UserError((err as Error).message);
      }
      const input = opts.input ?? entry.defaultInput;
      let model;
      try {
        model = buildModel(opts.model, { numClasses: opts.numClasses, inChannels: input[0], stem: opts.stem });
      } catch (err) {
        throw new UserError((err as Error).message);
      }
      let s;
      try {
        s = summarize(model, input);
      } catch (err) {
        throw new UserError(`${opts.model} cannot take a ${input.join('x')} input: ${(err as Error).message}`);
      }
      if (opts.json) {
        console.log(JSON.stringify({ model: opts.model, ...s }));
        return;
      }
      const rows = s.layers.map((l) => {
        const rf = l.receptiveField;
        const rfText = !rf ? '' : rf.h.size === rf.w.size && rf.h.jump === rf.w.jump && rf.h.start === rf.w.start
          ? `${rf.h.size} / ${rf.h.jump} / ${rf.h.start}`
          : `${rf.h.size}x${rf.w.size} / ${rf.h.jump}x${rf.w.jump} / ${rf.h.start},${rf.w.start}`;
        return [l.path, l.type, `[${l.outputShape.join(', ')}]`, thousands(l.params), l.macs ? si(l.macs) : '', rfText];
      });
      console.log(`${opts.model}, input ${input.join('x')}`);
      console.log(table(['layer', 'type', 'output', 'params', 'MACs', 'RF size / jump / start'], rows, new Set([3, 4])));
      console.log('');
      console.log(`parameters:  ${thousands(s.totalParams)} (trainable ${thousands(s.trainableParams)}, frozen ${thousands(s.frozenParams)})`);
      console.log(`MACs:        ${si(s.totalMacs)} per image`);
      console.log(`memory:      parameters ${mebibytes(s.paramBytes)}, activations ${mebibytes(s.activationBytes)} per image (forward)`);
    });
}
