// `cnn export checkpoint.bin --onnx model.onnx`: the eval-mode model as an ONNX file, with the
// class names and preprocessing in its metadata, or a refusal naming the layer ONNX cannot express.
import type { Command } from 'commander';
import { numberRow, switchRow, textRow, type OptionRow } from '../option-row.js';
import { thousands, mebibytes } from './format.js';
import { CHECKPOINT_ARGUMENT } from './shared-rows.js';
import { computingCommand, type CommandOptions } from './threads.js';

const group = 'command';

const FIXED_BATCH = numberRow('batch', '--batch <n>', { integer: true, min: 1, max: 65536, help: '', group });

/** 'dynamic' or a fixed batch size. */
const BATCH_ROW: OptionRow<'batch', number | 'dynamic'> & { default: 'dynamic' } = {
  key: 'batch', flag: '--batch <n>', group, default: 'dynamic', help: "'dynamic' or a fixed batch size",
  parse: (raw) => (raw === 'dynamic' ? raw : FIXED_BATCH.parse!(raw)),
  check: (v) => (v === 'dynamic' ? undefined : FIXED_BATCH.check!(v) && "'dynamic' or an integer between 1 and 65536"),
};

const EXPORT_ROWS = [
  textRow('onnx', '--onnx <file>', { required: true, help: 'the ONNX file to write', group }),
  numberRow('opset', '--opset <n>', { integer: true, min: 13, max: 21, default: 17, help: 'ONNX opset version (13 to 21)', group }),
  BATCH_ROW,
  switchRow('foldBn', '--fold-bn', { help: 'fold BatchNorm layers into the convolutions before them', group }),
  switchRow('softmax', '--softmax', { help: 'end with Softmax: the output is probabilities instead of logits', group }),
] as const;

export function addExportCommand(program: Command): void {
  computingCommand(program, 'export', 'write a checkpoint\'s model as an ONNX file for deployment', EXPORT_ROWS)
    .addArgument(CHECKPOINT_ARGUMENT)
    .action(async (checkpoint: string, o: CommandOptions<typeof EXPORT_ROWS>) => {
      // The export runs the model's forward on a probe input to check itself.
      const { modelFromCheckpoint } = await import('../train/checkpoint.js');
      const { exportOnnx } = await import('../nn/onnx-export.js');
      const { writeFileAtomic } = await import('../io/atomic-write.js');
      const loaded = modelFromCheckpoint(checkpoint);
      const { model: config, dataset } = loaded.checkpoint;
      const result = exportOnnx(loaded.model, {
        inputShape: dataset.inputShape,
        batch: o.batch,
        opset: o.opset,
        foldBn: o.foldBn,
        softmax: o.softmax,
        producerVersion: program.version() ?? '',
        docString: `${config.name} trained on ${dataset.name} by cnn`,
        metadata: onnxMetadata(config, dataset, o.batch, o.softmax ? 'probabilities' : 'logits'),
      });
      writeFileAtomic(o.onnx, result.bytes);
      const bytes = result.bytes.reduce((s, c) => s + c.length, 0);
      const { inputs, outputs, nodes } = result.graph;
      const shape = (dims: readonly (number | string)[]) => `[${dims.join(', ')}]`;
      console.log(`wrote ${o.onnx}: ${config.name}, opset ${o.opset}, ${inputs[0].name} ${shape(inputs[0].shape)} → ${outputs[0].name} ${shape(outputs[0].shape)}, `
        + `${nodes.length} nodes${result.foldedBatchNorms ? ` (${result.foldedBatchNorms} BatchNorm folded)` : ''}, ${thousands(loaded.model.parameters().reduce((s, p) => s + p.size, 0))} parameters, ${mebibytes(bytes)}`);
    });
}

/** What a deployment needs besides the graph: input layout, class names, preprocessing. */
function onnxMetadata(config: object, dataset: { name: string; classes: string[]; mean: number[]; std: number[]; inputShape: [number, number, number] }, batch: number | 'dynamic', output: string): Record<string, string> {
  const [c, h, w] = dataset.inputShape;
  return {
    input_name: 'input',
    input_shape: JSON.stringify([batch === 'dynamic' ? 'batch' : batch, c, h, w]),
    input_layout: 'NCHW',
    output_name: output,
    classes: JSON.stringify(dataset.classes),
    mean: JSON.stringify(dataset.mean),
    std: JSON.stringify(dataset.std),
    preprocessing: `${c === 1 ? 'grayscale' : 'RGB'} image resized to ${h}x${w} (bilinear, antialiased), values /255, then (x - mean) / std per channel`,
    dataset: dataset.name,
    model: JSON.stringify(config),
  };
}
