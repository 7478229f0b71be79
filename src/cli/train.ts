// `cnn train`: one commander option per row of the run spec (train/options.ts), then the trainer
// with the right progress display.
import type { Command } from 'commander';
import { TRAIN_OPTIONS, usedBy, type TrainConfig } from '../train/options.js';
import { switchRow } from '../option-row.js';
import { addThreadsOption, type ThreadsOption } from './threads.js';
import { rowOption } from './row-options.js';
import type { TrainReporter } from '../train/progress.js';
import { whenStdoutCloses, stdoutClosed } from './stdout-pipe.js';
import { launchedAsRanks, isLeaderRank, finishRank, rankFailure } from './distributed.js';
import { UserError } from './errors.js';
import { CnnError } from '../errors.js';

interface OutputOptions extends ThreadsOption {
  json?: boolean;
  quiet?: boolean;
  profile?: boolean;
}

const OUTPUT_ROWS = [
  switchRow('json', '--json', { help: 'one JSON event per line', group: 'output' }),
  switchRow('quiet', '--quiet', { help: 'print nothing but errors', group: 'output' }),
  switchRow('profile', '--profile', { help: 'after the run, time per layer (forward, backward) and the share of GEMM, packing/im2col, elementwise, allocation, optimizer and data wait', group: 'output' }),
];

/** The options the user gave, by config key. */
function givenConfig(o: Record<string, unknown>): Partial<TrainConfig> {
  const given = TRAIN_OPTIONS.filter((r) => o[r.key] !== undefined).map((r) => [r.key, o[r.key]]);
  return Object.fromEntries([...given, ...(o.threads === undefined ? [] : [['threads', o.threads]])]) as Partial<TrainConfig>;
}

async function reporterFor(o: OutputOptions): Promise<TrainReporter> {
  const { TtyReporter, PlainReporter, JsonReporter, QuietReporter } = await import('../train/progress.js');
  return o.json ? new JsonReporter() : o.quiet ? new QuietReporter()
    : process.stdout.isTTY && process.env.CI !== 'true' ? new TtyReporter() : new PlainReporter();
}

/**
 * Ctrl-C once, or stdout's reader going away (| head): finish the step and save; Ctrl-C twice: quit now.
 * endedByLauncher: the stop came from mpirun's SIGTERM, which it sends only while tearing the job down.
 */
function onInterrupt(o: OutputOptions): { stopRequested: () => boolean; endedByLauncher: () => boolean; dispose: () => void } {
  let stopRequested = false, endedByLauncher = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    endedByLauncher = signal === 'SIGTERM';
    if (!o.json && !o.quiet && isLeaderRank()) console.error('\ncnn: stopping after this step and saving last.bin (Ctrl-C again to quit now)');
  };
  process.on('SIGINT', handler);
  // mpirun passes Ctrl-C on to the ranks as SIGTERM (then SIGKILL after odls_base_sigkill_timeout).
  if (launchedAsRanks()) process.on('SIGTERM', handler);
  whenStdoutCloses(() => {
    stopRequested = true;
  });
  return { stopRequested: () => stopRequested, endedByLauncher: () => endedByLauncher, dispose: () => process.off('SIGINT', handler).off('SIGTERM', handler) };
}

async function runTrain(o: Record<string, unknown> & OutputOptions): Promise<void> {
  const { train } = await import('../train/trainer.js');
  const interrupt = onInterrupt(o);
  try {
    const result = await train(givenConfig(o), { reporter: await reporterFor(o), shouldStop: interrupt.stopRequested, profile: o.profile });
    // A closed stdout (| head) is a normal end: exit 0.
    if (result.stopped === 'interrupted' && !stdoutClosed()) process.exitCode = 130;
    // mpirun, tearing the job down, sleeps between its SIGTERM and SIGKILL and cannot take part in
    // MPI_Finalize: a rank waiting there would be killed with its last lines unforwarded. last.bin is
    // saved and every rank agreed on the step, so end now.
    if (result.stopped === 'interrupted' && interrupt.endedByLauncher()) process.exit(130);
    finishRank();
  } catch (thrown) {
    // Under mpirun an error every rank agreed on ends each rank normally, rank 0 alone saying why.
    const { NonFiniteLossError } = await import('../train/trainer.js');
    const err = launchedAsRanks() ? rankFailure(thrown, thrown instanceof NonFiniteLossError, thrown instanceof CnnError ? thrown.exitCode : 1) : thrown;
    if (err instanceof UserError && err.message === '') {
      process.exitCode = err.exitCode;
      return;
    }
    // --json readers see the failure in the event stream too; main prints the line.
    if (o.json) console.log(JSON.stringify({ event: 'error', message: (err as Error).message }));
    throw err;
  } finally {
    interrupt.dispose();
  }
}

export function addTrainCommand(program: Command): void {
  const cmd = program.command('train')
    .description('train a model (default: lenet5 on the bundled Fashion-MNIST subset)');
  // Checked together by the run spec, and without defaults: a resumed run keeps its own.
  for (const row of TRAIN_OPTIONS) cmd.addOption(rowOption(row, { checked: false, defaults: false, users: usedBy(row) }));
  addThreadsOption(cmd);
  for (const row of OUTPUT_ROWS) cmd.addOption(rowOption(row, { checked: true, defaults: false }));
  cmd.action(runTrain);
}
