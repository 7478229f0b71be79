// `cnn bench <what>`: machine-readable speed figures (one JSON object per line with --json).
import type { Command } from 'commander';
import { UserError, parseIntegerOption } from './errors.js';
import { parseInputShape, parseStem } from './model-options.js';
import { OP_KINDS, type OpKind } from '../bench/op-kinds.js';
import { addThreadsOption, applyThreadsOption, type ThreadsOption } from './threads.js';

function parseSizes(value: string): number[] {
  const sizes = value.split(',').map((s) => Number(s.trim()));
  if (sizes.some((s) => !Number.isInteger(s) || s < 1 || s > 16384)) {
    throw new UserError(`Expected a comma-separated list of sizes between 1 and 16384 for --sizes but received '${value}'`);
  }
  return sizes;
}

function addGemmBench(bench: Command): void {
  addThreadsOption(
    bench.command('gemm')
      .description('SGEMM GFLOP/s on square sizes 256-2048 and convolution-shaped cases')
      .option('--sizes <list>', 'square sizes only, e.g. 256,1024 (default: 256 to 2048 and convolution shapes)', parseSizes)
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
}

function addDataBench(bench: Command): void {
  addThreadsOption(
    bench.command('data')
      .description('images/s of loading + augmenting alone: the CIFAR preset on synthetic 32x32 images, or an image folder / labels file streamed from disk')
      .option('--dataset <name>', 'imagefolder: stream --data-dir or --labels (default: synthetic CIFAR-sized images)')
      .option('--data-dir <dir>', 'an image folder (ROOT/<class>/*.jpg) (default: none)')
      .option('--labels <file>', 'a path,label CSV/TSV (default: none)')
      .option('--image-size <n>', 'crop side (imagefolder; default: 224)', parseIntegerOption('image-size', 1, 4096))
      .option('--augment <level>', 'none | basic | strong (imagefolder: RandomResizedCrop + flip + normalize for basic; default: basic)')
      .option('--batch-size <n>', 'images per batch (imagefolder; default: 64)', parseIntegerOption('batch-size', 1, 65536))
      .option('--limit <n>', 'stop after n images (imagefolder; default: one epoch)', parseIntegerOption('limit', 1, 2 ** 31 - 1))
      .option('--json', 'one JSON object per line'),
  ).action(async (opts: ThreadsOption & { dataset?: string; dataDir?: string; labels?: string; imageSize?: number; augment?: string; batchSize?: number; limit?: number; json?: boolean }) => {
    await applyThreadsOption(opts);
    const augment = opts.augment ?? 'basic';
    if (!['none', 'basic', 'strong'].includes(augment)) throw new UserError(`Expected none, basic or strong for --augment but received '${augment}'`);
    const streamed = opts.dataset !== undefined || opts.dataDir !== undefined || opts.labels !== undefined;
    if (streamed) {
      if (opts.dataset !== undefined && opts.dataset !== 'imagefolder') throw new UserError(`cnn bench data streams --dataset imagefolder only, not '${opts.dataset}'`);
      const { benchImageFolder } = await import('../bench/image-folder.js');
      const r = await benchImageFolder({ ...opts, augment: augment as 'basic' });
      if (opts.json) console.log(JSON.stringify(r));
      else console.log(`data  ${r.source} (${r.augment}, ${r.image_size}px)  ${r.images} images  batch ${r.batch_size}  threads ${r.threads}  ${Math.round(r.images_per_sec)} images/s  peak RSS ${r.peak_rss_mb} MB`);
      return;
    }
    const { benchData } = await import('../bench/data.js');
    const r = benchData({ augment: augment as 'basic' });
    if (opts.json) console.log(JSON.stringify(r));
    else console.log(`data  preset ${r.preset} (${r.augment})  batch ${r.batch_size}  threads ${r.threads}  ${Math.round(r.images_per_sec)} images/s`);
  });
}

function parseOpKinds(value: string): OpKind[] {
  const kinds = value.split(',').map((s) => s.trim());
  const bad = kinds.find((k) => !(OP_KINDS as readonly string[]).includes(k));
  if (bad !== undefined) throw new UserError(`Expected a comma-separated list of ${OP_KINDS.join(', ')} for --kind but received '${value}'`);
  return kinds as OpKind[];
}

function addOpsBench(bench: Command): void {
  addThreadsOption(
    bench.command('ops')
      .description('GFLOP/s per layer kind (3x3 conv forward / backward input / backward weight at 64-512 channels, 1x1 conv, depthwise, GEMM) against the FMA peak measured on 1 thread and on --threads')
      .option('--kind <list>', `only these kinds: ${OP_KINDS.join(', ')} (default: all)`, parseOpKinds)
      .option('--batch <n>', 'images per convolution call', parseIntegerOption('batch', 1, 4096), 8)
      .option('--json', 'one JSON object per line'),
  ).action(async (opts: ThreadsOption & { kind?: OpKind[]; batch: number; json?: boolean }) => {
    await applyThreadsOption(opts);
    const { benchOps } = await import('../bench/ops.js');
    if (!opts.json) console.log('kind       pass            shape                      threads  algo       GFLOP/s   peak  % of peak');
    benchOps({ batch: opts.batch, kinds: opts.kind }, (r) => {
      if (opts.json) return console.log(JSON.stringify(r));
      console.log(`${r.kind.padEnd(10)} ${r.pass.padEnd(15)} ${r.shape.join(',').padEnd(26)} ${String(r.threads).padStart(7)}  ${r.algo.padEnd(9)} ${r.gflops.toFixed(1).padStart(8)} ${r.peak_gflops.toFixed(0).padStart(6)}  ${(100 * r.fraction_of_peak).toFixed(1).padStart(8)}%`);
    });
  });
}

/** One line of a model bench: per rank and global figures under mpirun. */
function modelBenchLine(kind: string, r: import('../bench/train.js').TrainBenchResult): string {
  if (!r.ranks) return `${kind}  ${r.model} ${r.input.join('x')} batch ${r.batch}  threads ${r.threads}  ${r.images_per_sec.toFixed(1)} images/s  peak RSS ${r.peak_rss_mb} MB`;
  return `${kind}  ${r.model} ${r.input.join('x')} batch ${r.batch} per rank × ${r.ranks} ranks = ${r.global_batch}  threads ${r.threads} per rank  `
    + `per rank ${r.rank_images_per_sec!.map((v) => v.toFixed(1)).join(', ')} images/s  global ${r.images_per_sec.toFixed(1)} images/s  `
    + `waiting on communication ${(100 * r.communication_share!).toFixed(1)}% of a step  peak RSS ${r.peak_rss_mb} MB (rank 0)`;
}

function addModelBench(bench: Command, kind: 'train' | 'eval'): void {
  addThreadsOption(
    bench.command(kind)
      .description(kind === 'train'
        ? 'images/s of a full training step (forward, loss, backward, Adam step)'
        : 'images/s of a forward pass in eval mode')
      .requiredOption('--model <name>', 'model from `cnn models`')
      .option('--input <CxHxW>', 'input shape (default: the model\'s own)', parseInputShape)
      .option('--batch <n>', 'batch size', parseIntegerOption('batch', 1, 65536), 64)
      .option('--num-classes <n>', 'classifier outputs', parseIntegerOption('num-classes', 1, 1_000_000), 10)
      .option('--stem <kind>', 'ResNet stem: imagenet or cifar (default: imagenet)', parseStem)
      .option('--steps <n>', 'timed steps after warm-up (at least 2 steps and 1 s)', parseIntegerOption('steps', 1, 10000), 5)
      .option('--profile', 'then as many steps again under the profiler: time per layer and the share of GEMM, packing/im2col, elementwise, allocation, optimizer (a table, or "profile" in --json)')
      .option('--json', 'one JSON object per line'),
  ).action(async (opts: ThreadsOption & { model: string; input?: [number, number, number]; batch: number; numClasses: number; stem?: 'imagenet' | 'cifar'; steps: number; profile?: boolean; json?: boolean }) => {
    await applyThreadsOption(opts);
    const { getModel } = await import('../models/registry.js');
    const { benchTrainStep } = await import('../bench/train.js');
    const input = opts.input ?? getModel(opts.model).defaultInput;
    // Under mpirun: one data-parallel step per rank, figures from rank 0.
    const { joinWorld, NoMpiSupportError } = await import('../dist/world.js');
    let world;
    try {
      world = joinWorld();
    } catch (err) {
      throw err instanceof NoMpiSupportError ? new UserError(err.message) : err;
    }
    // Ranks on one machine share its cores unless --threads says otherwise.
    const { DataParallel } = await import('../train/distributed.js');
    const { setThreads } = await import('../tensor/native.js');
    const perRank = opts.threads === undefined ? new DataParallel(world).defaultThreads() : undefined;
    if (perRank) setThreads(perRank);
    const r = await benchTrainStep(kind, { model: opts.model, input, batch: opts.batch, numClasses: opts.numClasses, stem: opts.stem, steps: opts.steps, world, profile: opts.profile });
    world.finalize();
    if (world.rank !== 0) return;
    console.log(opts.json ? JSON.stringify(r) : modelBenchLine(kind, r));
    if (r.profile && !opts.json) {
      const { formatProfile } = await import('../tensor/profile.js');
      console.log(formatProfile(r.profile));
    }
  });
}

export function addBenchCommand(program: Command): void {
  const bench = program.command('bench').description('measure kernel and training speed');
  addGemmBench(bench);
  addDataBench(bench);
  addOpsBench(bench);
  for (const kind of ['train', 'eval'] as const) addModelBench(bench, kind);
}
