// --threads, the one definition every computing command takes; it reaches every kernel call.
import type { Command } from 'commander';
import { numberRow, type AnyOptionRow, type ConfigFrom } from '../option-row.js';
import { addRows, rowOption } from './row-options.js';

export interface ThreadsOption {
  threads?: number;
}

/** The options of a computing command with these rows. */
export type CommandOptions<Rows extends readonly AnyOptionRow[]> = ConfigFrom<Rows> & ThreadsOption;

export const THREADS_ROW = numberRow('threads', '--threads <n>', {
  integer: true, min: 1, max: 1024, defaultText: 'CNN_THREADS, else all cores', help: 'OpenMP threads for every kernel', group: 'command',
});

/** --threads on cmd; the count is set before its action runs. */
export function addThreadsOption(cmd: Command): Command {
  return cmd.addOption(rowOption(THREADS_ROW, { checked: true, defaults: false }))
    .hook('preAction', async (self) => {
      const { threads } = self.opts<ThreadsOption>();
      if (threads === undefined) return;
      const { setThreads } = await import('../tensor/native.js');
      setThreads(threads);
    });
}

/** A command of parent that computes: its rows (checked as parsed, defaulted) and --threads. */
export function computingCommand(parent: Command, name: string, description: string, rows: readonly AnyOptionRow[]): Command {
  return addThreadsOption(addRows(parent.command(name).description(description), rows));
}
