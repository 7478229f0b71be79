// `cnn bench <what>`: machine-readable speed figures (one JSON object per line with --json).
import type { Command } from 'commander';
import { UserError } from './errors.js';
import { choiceRow, listRow, numberRow, switchRow, textRow, type OptionRow } from '../option-row.js';
import { INPUT_ROW, MODEL_ROW, STEM_ROW, jsonRow } from './shared-rows.js';
import { OP_KINDS, type OpKind } from '../bench/op-kinds.js';
import { computingCommand, type CommandOptions } from './threads.js';

const group = 'command';
const JSON_ROW = jsonRow('one JSON object per line');

const GEMM_ROWS = [
  listRow('sizes', '--sizes <list>', {
    integer: true, min: 1, max: 16384, expected: 'comma-separated sizes between 1 and 16384', defaultText: '256 to 2048 and convolution shapes',
    help: 'square sizes only, e.g. 256,1024', group,
  }),
  JSON_ROW,
] as const;

function addGemmBench(bench: Command): void {
  computingCommand(bench, 'gemm', 'SGEMM GFLOP/s on square sizes 256-2048 and convolution-shaped cases', GEMM_ROWS)
    .action(async (opts: CommandOptions<typeof GEMM_ROWS>) => {
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

const DATA_ROWS = [
  choiceRow('dataset', '--dataset <name>', () => ['imagefolder'] as const, { defaultText: 'synthetic CIFAR-sized images', help: 'imagefolder: stream --data-dir or --labels', group }),
  textRow('dataDir', '--data-dir <dir>', { defaultText: 'none', help: 'an image folder (ROOT/<class>/*.jpg)', group }),
  textRow('labels', '--labels <file>', { defaultText: 'none', help: 'a path,label CSV/TSV', group }),
  numberRow('imageSize', '--image-size <n>', { integer: true, min: 1, max: 4096, defaultText: '224', help: 'crop side (imagefolder)', group }),
  choiceRow('augment', '--augment <level>', () => ['none', 'basic', 'strong'] as const, {
    default: 'basic', help: 'none | basic | strong (imagefolder: RandomResizedCrop + flip + normalize for basic)', group,
  }),
  numberRow('batchSize', '--batch-size <n>', { integer: true, min: 1, max: 65536, defaultText: '64', help: 'images per batch (imagefolder)', group }),
  numberRow('limit', '--limit <n>', { integer: true, min: 1, max: 2 ** 31 - 1, defaultText: 'one epoch', help: 'stop after n images (imagefolder)', group }),
  JSON_ROW,
] as const;

function addDataBench(bench: Command): void {
  computingCommand(bench, 'data', 'images/s of loading + augmenting alone: the CIFAR preset on synthetic 32x32 images, or an image folder / labels file streamed from disk', DATA_ROWS)
    .action(async (opts: CommandOptions<typeof DATA_ROWS>) => {
    const augment = opts.augment;
    const streamed = opts.dataset !== undefined || opts.dataDir !== undefined || opts.labels !== undefined;
    if (streamed) {
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

/** --kind conv3x3,gemm: some of OP_KINDS. */
const KINDS_ROW: OptionRow<'kind', OpKind[]> = {
  key: 'kind', flag: '--kind <list>', group, defaultText: 'all', help: `only these kinds: ${OP_KINDS.join(', ')}`,
  parse: (raw) => raw.split(',').map((s) => s.trim()) as OpKind[],
  check: (v) => (v.every((k) => OP_KINDS.includes(k)) ? undefined : `a comma-separated list of ${OP_KINDS.join(', ')}`),
};

const OPS_ROWS = [
  KINDS_ROW,
  numberRow('batch', '--batch <n>', { integer: true, min: 1, max: 4096, default: 8, help: 'images per convolution call', group }),
  numberRow('rounds', '--rounds <n>', {
    integer: true, min: 1, max: 100, default: 2, help: 'passes over every case; each row reports its fastest (on a shared CPU one pass can catch a slow minute)', group,
  }),
  JSON_ROW,
] as const;

function addOpsBench(bench: Command): void {
  computingCommand(bench, 'ops', 'GFLOP/s per layer kind (3x3 conv forward / backward input / backward weight at 64-512 channels, 1x1 conv, depthwise, GEMM) against the FMA peak measured on 1 thread and on --threads', OPS_ROWS)
    .action(async (opts: CommandOptions<typeof OPS_ROWS>) => {
    const { benchOps } = await import('../bench/ops.js');
    if (!opts.json) console.log('kind       pass            shape                      threads  algo       GFLOP/s   peak  % of peak');
    const rows = benchOps({ batch: opts.batch, kinds: opts.kind, rounds: opts.rounds }, (r) => {
      if (opts.json) return console.log(JSON.stringify(r));
      console.log(`${r.kind.padEnd(10)} ${r.pass.padEnd(15)} ${r.shape.join(',').padEnd(26)} ${String(r.threads).padStart(7)}  ${r.algo.padEnd(9)} ${r.gflops.toFixed(1).padStart(8)} ${r.peak_gflops.toFixed(0).padStart(6)}  ${(100 * r.fraction_of_peak).toFixed(1).padStart(8)}%`);
    });
    if (!opts.json && rows.some((r) => r.algo === 'winograd')) {
      console.log('winograd rows count the direct sum\'s flops: Winograd F(4×4, 3×3) multiplies 4× fewer, so it can pass the peak');
    }
  });
}

/** One line of a model bench: per rank and global figures under mpirun. */
function modelBenchLine(kind: string, r: import('../bench/train.js').TrainBenchResult): string {
  if (!r.ranks) return `${kind}  ${r.model} ${r.input.join('x')} batch ${r.batch}  threads ${r.threads}  ${r.images_per_sec.toFixed(1)} images/s  peak RSS ${r.peak_rss_mb} MB`;
  return `${kind}  ${r.model} ${r.input.join('x')} batch ${r.batch} per rank × ${r.ranks} ranks = ${r.global_batch}  threads ${r.threads} per rank  `
    + `per rank ${r.rank_images_per_sec!.map((v) => v.toFixed(1)).join(', ')} images/s  global ${r.images_per_sec.toFixed(1)} images/s  `
    + `waiting on communication ${(100 * r.communication_share!).toFixed(1)}% of a step  peak RSS ${r.peak_rss_mb} MB (rank 0)`;
}

const MODEL_BENCH_ROWS = [
  MODEL_ROW,
  INPUT_ROW,
  numberRow('batch', '--batch <n>', { integer: true, min: 1, max: 65536, default: 64, help: 'batch size', group }),
  numberRow('numClasses', '--num-classes <n>', { integer: true, min: 1, max: 1_000_000, default: 10, help: 'classifier outputs', group }),
  STEM_ROW,
  numberRow('steps', '--steps <n>', { integer: true, min: 1, max: 10000, default: 5, help: 'timed steps after warm-up (at least 2 steps and 1 s)', group }),
  switchRow('profile', '--profile', {
    help: 'then as many steps again under the profiler: time per layer and the share of GEMM, packing/im2col, elementwise, allocation, optimizer (a table, or "profile" in --json)', group,
  }),
  JSON_ROW,
] as const;

function addModelBench(bench: Command, kind: 'train' | 'eval'): void {
  const description = kind === 'train' ? 'images/s of a full training step (forward, loss, backward, Adam step)' : 'images/s of a forward pass in eval mode';
  computingCommand(bench, kind, description, MODEL_BENCH_ROWS).action(async (opts: CommandOptions<typeof MODEL_BENCH_ROWS>) => {
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
