// `cnn train`: every option of a run, then the trainer with the right progress display.
import type { Command } from 'commander';
import { UserError, parseIntegerOption } from './errors.js';
import { parseStem } from './model-options.js';
import type { ExtraAugment } from '../train/data.js';
import { parseMemorySize } from '../train/memory-estimate.js';

function parseNumber(name: string, min = -Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min) {
      throw new UserError(`Expected a number${min > -Infinity ? ` >= ${min}` : ''} for --${name} but received '${value}'`);
    }
    return n;
  };
}

function parseList(name: string) {
  return (value: string): number[] => value.split(',').map((v) => parseNumber(name)(v));
}

function parseBetas(value: string): [number, number] {
  const b = parseList('betas')(value);
  if (b.length !== 2) throw new UserError(`Expected two numbers for --betas (e.g. 0.9,0.999) but received '${value}'`);
  return [b[0], b[1]];
}

function extraAugment(o: Record<string, unknown>): ExtraAugment {
  const jitter = o.colorJitter as number[] | undefined;
  if (jitter && jitter.length !== 4) throw new UserError(`Expected four numbers for --color-jitter (brightness,contrast,saturation,hue) but received ${jitter.join(',')}`);
  const pick = Object.entries({
    randomCrop: o.randomCrop, randomResizedCrop: o.randomResizedCrop, hflip: o.hflip, vflip: o.vflip, rotation: o.rotation,
    colorJitter: jitter, grayscale: o.grayscale, erasing: o.erasing,
  }).filter(([, v]) => v !== undefined);
  return Object.fromEntries(pick) as ExtraAugment;
}

const int = (name: string, min = 0) => parseIntegerOption(name, min, 2 ** 31 - 1);

function parseMaxMemory(value: string): number {
  const bytes = parseMemorySize(value);
  if (!(bytes > 0)) throw new UserError(`Expected a size such as 8G or 512M for --max-memory but received '${value}'`);
  return bytes;
}

export function addTrainCommand(program: Command): void {
  program.command('train')
    .description('train a model (default: lenet5 on the bundled Fashion-MNIST subset)')
    .option('--model <name>', 'model from `cnn models`', 'lenet5')
    .option('--dataset <name>', 'dataset from `cnn datasets`', 'fashion-mnist-mini')
    .option('--data-dir <dir>', 'where datasets live (default: $CNN_DATA, else ./data)')
    .option('--epochs <n>', 'epochs to train', int('epochs', 1))
    .option('--batch-size <n>', 'images per step', int('batch-size', 1))
    .option('--lr <x>', 'learning rate (default: 0.01 for sgd, 0.001 for adam/adamw)', parseNumber('lr'))
    .option('--optimizer <name>', 'sgd | adam | adamw', 'adam')
    .option('--momentum <x>', 'SGD momentum', parseNumber('momentum'))
    .option('--nesterov', 'Nesterov momentum (SGD)')
    .option('--weight-decay <x>', 'L2 penalty (decoupled for adamw)', parseNumber('weight-decay'))
    .option('--betas <b1,b2>', 'Adam betas', parseBetas)
    .option('--eps <x>', 'Adam epsilon', parseNumber('eps'))
    .option('--scheduler <name>', 'none | step | multistep | cosine | cosine-restarts | plateau | onecycle', 'none')
    .option('--step-size <n>', 'step: epochs between decays', int('step-size', 1))
    .option('--milestones <list>', 'multistep: epochs where the LR decays, e.g. 30,60', parseList('milestones'))
    .option('--gamma <x>', 'step/multistep: decay factor', parseNumber('gamma'))
    .option('--t-max <n>', 'cosine: epochs of the half cosine (default: epochs − warmup)', int('t-max', 1))
    .option('--min-lr <x>', 'cosine/cosine-restarts eta_min, plateau min_lr', parseNumber('min-lr'))
    .option('--t0 <n>', 'cosine-restarts: epochs of the first period', int('t0', 1))
    .option('--t-mult <n>', 'cosine-restarts: period growth factor', int('t-mult', 1))
    .option('--plateau-patience <n>', 'plateau: epochs without improvement before decaying', int('plateau-patience'))
    .option('--plateau-factor <x>', 'plateau: decay factor', parseNumber('plateau-factor'))
    .option('--plateau-threshold <x>', 'plateau: relative improvement that counts', parseNumber('plateau-threshold'))
    .option('--plateau-cooldown <n>', 'plateau: epochs to wait after a decay', int('plateau-cooldown'))
    .option('--max-lr <x>', 'onecycle: peak learning rate (default: --lr)', parseNumber('max-lr'))
    .option('--pct-start <x>', 'onecycle: fraction of steps spent increasing', parseNumber('pct-start'))
    .option('--div-factor <x>', 'onecycle: initial lr = max-lr / div-factor', parseNumber('div-factor'))
    .option('--final-div-factor <x>', 'onecycle: final lr = initial lr / final-div-factor', parseNumber('final-div-factor'))
    .option('--warmup-epochs <n>', 'linear warm-up epochs before the schedule', int('warmup-epochs'))
    .option('--label-smoothing <x>', 'cross-entropy label smoothing', parseNumber('label-smoothing'))
    .option('--augment <level>', 'none | basic | strong (the dataset\'s preset)', 'none')
    .option('--threads <n>', 'OpenMP threads (default: CNN_THREADS or all cores)', int('threads', 1))
    .option('--seed <n>', 'seed for initialization, shuffling, augmentation and dropout', int('seed'))
    .option('--random-crop <padding>', 'add RandomCrop(image size, padding)', int('random-crop'))
    .option('--random-resized-crop <min-scale>', 'add RandomResizedCrop(image size, scale=(min, 1))', parseNumber('random-resized-crop'))
    .option('--hflip <p>', 'add RandomHorizontalFlip(p)', parseNumber('hflip'))
    .option('--vflip <p>', 'add RandomVerticalFlip(p)', parseNumber('vflip'))
    .option('--rotation <degrees>', 'add RandomRotation(±degrees)', parseNumber('rotation'))
    .option('--color-jitter <b,c,s,h>', 'add ColorJitter(brightness, contrast, saturation, hue)', parseList('color-jitter'))
    .option('--grayscale <p>', 'add RandomGrayscale(p)', parseNumber('grayscale'))
    .option('--erasing <p>', 'add RandomErasing(p) after Normalize', parseNumber('erasing'))
    .option('--val-split <x>', 'hold out this fraction of train for validation (default: validate on the test split)', parseNumber('val-split'))
    .option('--num-classes <n>', 'classifier outputs (default: the dataset\'s classes)', int('num-classes', 1))
    .option('--image-size <n>', 'resize images to n×n', int('image-size', 1))
    .option('--stem <kind>', 'ResNet stem: imagenet or cifar (3×3 stride-1, no max-pool)', parseStem)
    .option('--patience <n>', 'stop early after n epochs without a better validation accuracy', int('patience'))
    .option('--freeze-backbone', 'train only the classifier head')
    .option('--sync-bn', 'under mpirun: BatchNorm statistics over the global batch (SyncBatchNorm)')
    .option('--out <dir>', 'run folder (default: runs/<model>-<dataset>-N)')
    .option('--resume <checkpoint>', 'continue a run from its last.bin (with --epochs N to extend it)')
    .option('--overwrite', 'replace the run already in --out (without it, cnn refuses to touch it)')
    .option('--allow-nonfinite', 'let --resume load a checkpoint whose weights hold NaN or Inf')
    .option('--max-memory <size>', 'memory a training step may use, e.g. 8G (default: what is available)', parseMaxMemory)
    .option('--json', 'one JSON event per line')
    .option('--quiet', 'print nothing but errors')
    .action(async (o: Record<string, unknown>) => {
      const { train, NonFiniteLossError } = await import('../train/trainer.js');
      const { ConfigError } = await import('../train/config.js');
      const { CheckpointError } = await import('../train/checkpoint.js');
      const { TtyReporter, PlainReporter, JsonReporter, QuietReporter } = await import('../train/progress.js');
      const { launchedAsRanks, isLeaderRank, finishRank, rankFailure } = await import('./distributed.js');
      const reporter = o.json ? new JsonReporter() : o.quiet ? new QuietReporter()
        : process.stdout.isTTY && process.env.CI !== 'true' ? new TtyReporter() : new PlainReporter();
      let stopRequested = false;
      const onSigint = () => {
        if (stopRequested) process.exit(130);
        stopRequested = true;
        if (!o.json && !o.quiet && isLeaderRank()) console.error('\ncnn: stopping after this step and saving last.bin (Ctrl-C again to quit now)');
      };
      process.on('SIGINT', onSigint);
      // The reader of stdout went away (| head): stop like a Ctrl-C, saving last.bin, and exit 0.
      const { whenStdoutCloses, stdoutClosed } = await import('./stdout-pipe.js');
      whenStdoutCloses(() => {
        stopRequested = true;
      });
      // mpirun passes Ctrl-C on to the ranks as SIGTERM (then SIGKILL after odls_base_sigkill_timeout).
      if (launchedAsRanks()) process.on('SIGTERM', onSigint);
      // Options the user did not give stay undefined, so a resumed run keeps its own.
      const given = (name: string) => (o[name] === undefined ? undefined : o[name]);
      try {
        const result = await train({
          model: o.model as string, dataset: o.dataset as string, dataDir: o.dataDir as string | undefined,
          epochs: given('epochs') as number, batchSize: given('batchSize') as number, lr: given('lr') as number,
          optimizer: o.optimizer as never, momentum: given('momentum') as number, nesterov: o.nesterov === true ? true : undefined,
          weightDecay: given('weightDecay') as number, betas: given('betas') as [number, number], eps: given('eps') as number,
          scheduler: o.scheduler as never, stepSize: given('stepSize') as number, milestones: given('milestones') as number[],
          gamma: given('gamma') as number, tMax: given('tMax') as number, minLr: given('minLr') as number, t0: given('t0') as number,
          tMult: given('tMult') as number, plateauPatience: given('plateauPatience') as number, plateauFactor: given('plateauFactor') as number,
          plateauThreshold: given('plateauThreshold') as number, plateauCooldown: given('plateauCooldown') as number,
          maxLr: given('maxLr') as number, pctStart: given('pctStart') as number, divFactor: given('divFactor') as number,
          finalDivFactor: given('finalDivFactor') as number, warmupEpochs: given('warmupEpochs') as number,
          labelSmoothing: given('labelSmoothing') as number, augment: o.augment as never, extraAugment: extraAugment(o), threads: given('threads') as number,
          seed: given('seed') as number, valSplit: given('valSplit') as number, numClasses: given('numClasses') as number,
          imageSize: given('imageSize') as number, stem: given('stem') as never, patience: given('patience') as number,
          freezeBackbone: o.freezeBackbone === true ? true : undefined, syncBn: o.syncBn === true ? true : undefined, out: o.out as string | undefined, resume: o.resume as string | undefined,
        }, { reporter, shouldStop: () => stopRequested, overwrite: o.overwrite === true, allowNonFinite: o.allowNonfinite === true, maxMemory: o.maxMemory as number | undefined });
        if (result.stopped === 'interrupted' && !stdoutClosed()) process.exitCode = 130;
        finishRank();
      } catch (thrown) {
        const err = launchedAsRanks() ? rankFailure(thrown, thrown instanceof NonFiniteLossError, thrown instanceof ConfigError || thrown instanceof CheckpointError ? 2 : 1) : thrown;
        if (err instanceof UserError && err.message === '') {
          process.exitCode = err.exitCode;
          return;
        }
        if (err instanceof ConfigError || err instanceof CheckpointError) throw new UserError(err.message);
        if (err instanceof NonFiniteLossError) {
          if (o.json) console.log(JSON.stringify({ event: 'error', message: err.message }));
          throw new UserError(err.message, 1);
        }
        if (o.json) console.log(JSON.stringify({ event: 'error', message: (err as Error).message }));
        throw err;
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigint);
      }
    });
}
