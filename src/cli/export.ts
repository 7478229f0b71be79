// `cnn export checkpoint.bin --onnx model.onnx`: the eval-mode model as an ONNX file, with the
// class names and preprocessing in its metadata, or a refusal naming the layer ONNX cannot express.
import type { Command } from 'commander';
import { UserError, parseIntegerOption } from './errors.js';
import { thousands, mebibytes } from './format.js';
import { addThreadsOption, applyThreadsOption, type ThreadsOption } from './threads.js';

interface ExportOptions extends ThreadsOption {
  onnx: string;
  opset: number;
  batch: number | 'dynamic';
  foldBn?: boolean;
  softmax?: boolean;
}

function parseBatch(value: string): number | 'dynamic' {
  return value === 'dynamic' ? value : parseIntegerOption('batch', 1, 65536)(value);
}

export function addExportCommand(program: Command): void {
  addThreadsOption(program.command('export')
    .description('write a checkpoint\'s model as an ONNX file for deployment')
    .argument('<checkpoint>', 'a .bin checkpoint written by cnn train')
    .requiredOption('--onnx <file>', 'the ONNX file to write')
    .option('--opset <n>', 'ONNX opset version (13 to 21)', parseIntegerOption('opset', 13, 21), 17)
    .option('--batch <n>', "'dynamic' or a fixed batch size", parseBatch, 'dynamic' as const)
    .option('--fold-bn', 'fold BatchNorm layers into the convolutions before them')
    .option('--softmax', 'end with Softmax: the output is probabilities instead of logits'))
    .action(async (checkpoint: string, o: ExportOptions) => {
      // The export runs the model's forward on a probe input to check itself.
      await applyThreadsOption(o);
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
