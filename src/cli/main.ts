// The `cnn` command: parses, dispatches to one file per command, and turns every error into
// one line `cnn: <message>` and an exit code (2 for bad usage or input, 1 for failures, 130 for
// Ctrl-C); the stack only with --verbose or CNN_DEBUG=1.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Help, type Option, type OutputConfiguration } from 'commander';
import { addBenchCommand } from './bench.js';
import { addDatasetsCommand } from './datasets.js';
import { addDoctorCommand } from './doctor.js';
import { addEvalCommand } from './eval.js';
import { addExportCommand } from './export.js';
import { addPredictCommand } from './predict.js';
import { addTrainCommand } from './train.js';
import { addLrFindCommand } from './lr-find.js';
import { addModelsCommand } from './models.js';
import { addSummaryCommand } from './summary.js';
import { addGradcamCommand } from './gradcam.js';
import { addFeaturesCommand } from './features.js';
import { CnnError } from '../errors.js';
import { watchStdout } from './stdout-pipe.js';
import { isRowOption } from './row-options.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Options from rows state their default; an on/off switch without a default in its text says it is off by default. */
function describeOption(option: Option): string {
  if (isRowOption(option)) return option.description;
  const text = Help.prototype.optionDescription.call(new Help(), option);
  const plain = option.isBoolean() && !option.negate && !/default:/.test(text) && !['--help', '--version'].includes(option.long ?? '');
  return plain ? `${text} (default: off)` : text;
}

/** Commander's usage error as one line: "unknown option '--epochs' (Did you mean --eps?)". */
function oneLine(str: string): string {
  return str.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ');
}

/** Every command and option; `output` replaces where commander writes (the option fuzzer mutes it). */
export function buildProgram(output: OutputConfiguration = { outputError: (str, write) => write(`cnn: ${oneLine(str)}\n`) }): Command {
  const program = new Command('cnn')
    .description('Train, evaluate and inspect convolutional neural networks on the CPU')
    .version(packageVersion(), '-V, --version')
    .option('--verbose', 'print stack traces for errors')
    .exitOverride()
    .configureOutput(output)
    .configureHelp({ optionDescription: describeOption });
  addTrainCommand(program);
  addLrFindCommand(program);
  addEvalCommand(program);
  addPredictCommand(program);
  addExportCommand(program);
  addDoctorCommand(program);
  addBenchCommand(program);
  addModelsCommand(program);
  addSummaryCommand(program);
  addDatasetsCommand(program);
  addGradcamCommand(program);
  addFeaturesCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const verbose = argv.includes('--verbose') || process.env.CNN_DEBUG === '1';
  watchStdout();
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.exitCode = exitCodeFor(err, verbose);
  }
}

function exitCodeFor(err: unknown, verbose: boolean): number {
  if (err instanceof CommanderError) {
    // --help and --version end through here with exit code 0; usage errors were already printed.
    return err.exitCode === 0 ? 0 : 2;
  }
  if (verbose && err instanceof Error) console.error(err.stack);
  const message = err instanceof Error ? err.message : String(err);
  console.error(`cnn: ${message}`);
  // Anything that is not a CnnError was not foreseen: a runtime failure.
  return err instanceof CnnError ? err.exitCode : 1;
}
