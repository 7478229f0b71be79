// `cnn bench <what>`: machine-readable speed figures (one JSON object per line with --json).
import type { Command } from 'commander';
import { UserError, parseIntegerOption } from './errors.js';
import { parseInputShape, parseStem } from './model-options.js';
import { addThreadsOption, applyThreadsOption, type ThreadsOption } from './threads.js';

function parseSizes(value: string): number[] {
  const sizes = value.split(',').map((s) => Number(s.trim()));
  if (sizes.some((s) => !Number.isInteger(s) || s < 1 || s > 16384)) {
    throw new UserError(`Expected a comma-separated list of sizes between 1 and 16384 for --sizes but received '${value}'`);
  }
  return sizes;
}

export function addBenchCommand(program: Command): void {
  const bench = program.command('bench').description('measure kernel and training speed');
  addThreadsOption(
    bench.command('gemm')
      .description('SGEMM GFLOP/s on square sizes 256-2048 and convolution-shaped cases')
      .option('--sizes <list>', 'square sizes only, e.g. 256,1024', parseSizes)
      .option('--json', 'one JSON object per line'),
  ).action(async (opts: ThreadsOption & { sizes?: number[]; json?: boolean }) => {
    await applyThreadsOption(opts);
    const { benchGemm, DEFAULT_GEMM_SHAPES } = await import('../bench/gemm.js');
    const shapes = opts.sizes ? opts.sizes.map((s) => ({ m: s, n: s, k: s })) : DEFAULT_GEMM_SHAPES;
    if (!opts.json) console.log('     m      n      k  op(A) op(B)  threads  kernels  GFLOP/s');
    for (const shape of shapes) {
      const r = benchGemm(shape);
      if (opts.json) console.log(JSON.stringify(r));
      else console.log(`${String(r.m).padStart(6)} ${String(r.n).padStart(6)} ${String(r.k).padStart(6)}  ${r.transA ? '  Aᵀ ' : '  A  '} ${r.transB ? '  Bᵀ ' : '  B  '}  ${String(r.threads).padStart(7)}  ${r.isa.padStart(7)}  ${r.gflops.toFixed(1).padStart(7)}`);
    }
  });
  addThreadsOption(
    bench.command('data')
      .description('augmented images/s through the native augmenter (CIFAR preset, synthetic 32x32x3 images)')
      .option('--json', 'one JSON object per line'),
  ).action(async (opts: ThreadsOption & { json?: boolean }) => {
    await applyThreadsOption(opts);
    const { benchData } = await import('../bench/data.js');
    const r = benchData();
    if (opts.json) console.log(JSON.stringify(r));
    else console.log(`data  preset ${r.preset} (${r.augment})  batch ${r.batch_size}  threads ${r.threads}  ${Math.round(r.images_per_sec)} images/s`);
  });
  for (const kind of ['train', 'eval'] as const) {
    addThreadsOption(
      bench.command(kind)
        .description(kind === 'train'
          ? 'images/s of a full training step (forward, loss, backward, Adam step)'
          : 'images/s of a forward pass in eval mode')
        .requiredOption('--model <name>', 'model from `cnn models`')
        .option('--input <CxHxW>', 'input shape (default: the model\'s own)', parseInputShape)
        .option('--batch <n>', 'batch size', parseIntegerOption('batch', 1, 65536), 64)
        .option('--num-classes <n>', 'classifier outputs', parseIntegerOption('num-classes', 1, 1_000_000), 10)
        .option('--stem <kind>', 'ResNet stem: imagenet or cifar', parseStem)
        .option('--steps <n>', 'timed steps after warm-up (at least 2 steps and 1 s)', parseIntegerOption('steps', 1, 10000), 5)
        .option('--json', 'one JSON object per line'),
    ).action(async (opts: ThreadsOption & { model: string; input?: [number, number, number]; batch: number; numClasses: number; stem?: 'imagenet' | 'cifar'; steps: number; json?: boolean }) => {
      await applyThreadsOption(opts);
      const { getModel } = await import('../models/registry.js');
      const { benchTrainStep } = await import('../bench/train.js');
      let input = opts.input;
      try {
        input ??= getModel(opts.model).defaultInput;
      } catch (err) {
        throw new UserError((err as Error).message);
      }
      const r = benchTrainStep(kind, { model: opts.model, input, batch: opts.batch, numClasses: opts.numClasses, stem: opts.stem, steps: opts.steps });
      if (opts.json) console.log(JSON.stringify(r));
      else console.log(`${kind}  ${r.model} ${r.input.join('x')} batch ${r.batch}  threads ${r.threads}  ${r.images_per_sec.toFixed(1)} images/s  peak RSS ${r.peak_rss_mb} MB`);
    });
  }
}
