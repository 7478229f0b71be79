// `cnn bench <what>`: machine-readable speed figures (one JSON object per line with --json).
import type { Command } from 'commander';
import { UserError } from './errors.js';
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
}
