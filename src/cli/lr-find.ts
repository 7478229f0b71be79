// `cnn lr-find`: fastai's learning-rate range test with `cnn train`'s options (the same rows,
// commander options built as train builds them); prints both suggestions and writes the curve.
import type { Command } from 'commander';
import { LR_FIND_OPTIONS } from '../train/lr-find-options.js';
import { usedBy } from '../train/options.js';
import { switchRow } from '../option-row.js';
import type { LrFindResult, LrFindStart, LrFindStep } from '../train/lr-find.js';
import { addThreadsOption, type ThreadsOption } from './threads.js';
import { rowOption } from './row-options.js';

const formatLr = (lr: number) => lr.toExponential(2);

function startLine(s: LrFindStart): string {
  const init = s.init ? `; ${s.init}` : '';
  return `lr-find ${s.model} on ${s.dataset} (${s.trainCount} training images): ${s.steps} steps from ${formatLr(s.startLr)} towards ${formatLr(s.endLr)}, `
    + `${s.optimizer}, batch ${s.batchSize}; ${s.threads} thread${s.threads === 1 ? '' : 's'}; no model is saved${init}`;
}

function stepLine(s: LrFindStep): string | null {
  const every = Math.max(1, Math.round(s.steps / 10));
  return s.step % every === 0 ? `step ${s.step}/${s.steps}  lr ${formatLr(s.lr)}  loss ${s.loss.toFixed(4)}  smoothed ${s.smoothed.toFixed(4)}` : null;
}

function resultLines(r: LrFindResult): string[] {
  const ran = `${r.lrs.length} of ${r.steps} steps`;
  const stop = r.stopped === 'diverged' ? `stopped after ${ran}: the smoothed loss passed 4× its minimum`
    : r.stopped === 'non-finite' ? `stopped after ${ran}: the next loss was not finite` : `ran ${ran}`;
  const s = r.suggestions;
  const suggestion = s
    ? `suggested lr: ${formatLr(s.steep.lr)} (steepest descent), ${formatLr(s.minimum.lr)} (minimum ${formatLr(s.minimum.minimumAt)} / 10)`
    : `no suggestion: ${r.lrs.length} steps leave fewer than two after fastai's trimming (the first tenth of --steps and the last five); raise --steps or lower --end-lr`;
  return [stop, suggestion, `plot: ${r.out}`];
}

async function runLrFind(o: Record<string, unknown> & ThreadsOption & { json?: boolean }): Promise<void> {
  const { lrFind } = await import('../train/lr-find.js');
  const given = Object.fromEntries(LR_FIND_OPTIONS.filter((r) => o[r.key] !== undefined).map((r) => [r.key, o[r.key]]));
  if (o.threads !== undefined) given.threads = o.threads;
  const print = (line: string | null) => line !== null && console.log(line);
  const r = await lrFind(given, o.json ? {} : { onStart: (s) => print(startLine(s)), onStep: (s) => print(stepLine(s)) });
  if (o.json) console.log(JSON.stringify(r));
  else resultLines(r).forEach(print);
}

export function addLrFindCommand(program: Command): void {
  const cmd = program.command('lr-find')
    .description("learning-rate range test (fastai's lr_find): train at an exponentially rising lr and suggest one; saves no model");
  // As `cnn train`'s: checked together by the run spec, defaults filled there.
  for (const row of LR_FIND_OPTIONS) cmd.addOption(rowOption(row, { checked: false, defaults: false, users: usedBy(row) }));
  addThreadsOption(cmd);
  cmd.addOption(rowOption(switchRow('json', '--json', { help: 'print the sweep and the suggestions as one JSON object', group: 'output' }), { checked: true, defaults: false }))
    .action(runLrFind);
}
