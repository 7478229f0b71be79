// `cnn summary`: one row per layer of a model — path, type, output shape, parameters,
// multiply-adds, receptive field — then totals.
import type { Command } from 'commander';
import { computingCommand, type CommandOptions } from './threads.js';
import { UserError } from './errors.js';
import { numberRow } from '../option-row.js';
import { INPUT_ROW, STEM_ROW, jsonRow, modelRow } from './shared-rows.js';
import { thousands, si, mebibytes, table } from './format.js';
import type { Module } from '../nn/module.js';

const SUMMARY_ROWS = [
  modelRow("the checkpoint's; required without a checkpoint"),
  INPUT_ROW,
  numberRow('numClasses', '--num-classes <n>', { integer: true, min: 1, max: 1_000_000, defaultText: "the model's own", help: 'number of classes', group: 'command' }),
  STEM_ROW,
  jsonRow('print one JSON object'),
] as const;

type SummaryOptions = CommandOptions<typeof SUMMARY_ROWS>;

async function modelByName(opts: SummaryOptions): Promise<{ model: Module; input: [number, number, number]; name: string }> {
  if (opts.model === undefined) throw new UserError('cnn summary needs --model <name> or a checkpoint file');
  const { getModel, buildModel } = await import('../models/registry.js');
  const input = opts.input ?? getModel(opts.model).defaultInput;
  return { model: buildModel(opts.model, { numClasses: opts.numClasses, inChannels: input[0], stem: opts.stem }), input, name: opts.model };
}

async function modelOfCheckpoint(file: string, opts: SummaryOptions): Promise<{ model: Module; input: [number, number, number]; name: string }> {
  if (opts.model !== undefined || opts.numClasses !== undefined || opts.stem !== undefined) {
    throw new UserError('--model, --num-classes and --stem come from the checkpoint; give either a checkpoint or --model');
  }
  const { loadModelForImages } = await import('./image-model.js');
  const loaded = loadModelForImages(file);
  return { model: loaded.model, input: opts.input ?? [...loaded.checkpoint.dataset.inputShape], name: loaded.checkpoint.model.name };
}

export function addSummaryCommand(program: Command): void {
  computingCommand(program, 'summary', 'per-layer output shapes, parameters, multiply-adds and receptive fields of a model', SUMMARY_ROWS)
    .argument('[checkpoint]', 'a .bin checkpoint: summarize its model at the input it was trained on')
    .action(async (checkpoint: string | undefined, opts: SummaryOptions) => {
      const { summarize } = await import('../nn/summary.js');
      const { model, input, name } = checkpoint === undefined ? await modelByName(opts) : await modelOfCheckpoint(checkpoint, opts);
      let s;
      try {
        s = summarize(model, input);
      } catch (err) {
        throw new UserError(`${name} cannot take a ${input.join('x')} input: ${(err as Error).message}`);
      }
      if (opts.json) {
        console.log(JSON.stringify({ model: name, ...s }));
        return;
      }
      const rows = s.layers.map((l) => {
        const rf = l.receptiveField;
        const rfText = !rf ? '' : rf.h.size === rf.w.size && rf.h.jump === rf.w.jump && rf.h.start === rf.w.start
          ? `${rf.h.size} / ${rf.h.jump} / ${rf.h.start}`
          : `${rf.h.size}x${rf.w.size} / ${rf.h.jump}x${rf.w.jump} / ${rf.h.start},${rf.w.start}`;
        return [l.path, l.type, `[${l.outputShape.join(', ')}]`, thousands(l.params), l.macs ? si(l.macs) : '', rfText];
      });
      console.log(`${name}, input ${input.join('x')}`);
      console.log(table(['layer', 'type', 'output', 'params', 'MACs', 'RF size / jump / start'], rows, new Set([3, 4])));
      console.log('');
      console.log(`parameters:  ${thousands(s.totalParams)} (trainable ${thousands(s.trainableParams)}, frozen ${thousands(s.frozenParams)})`);
      console.log(`MACs:        ${si(s.totalMacs)} per image`);
      console.log(`memory:      parameters ${mebibytes(s.paramBytes)}, activations ${mebibytes(s.activationBytes)} per image (forward)`);
    });
}
