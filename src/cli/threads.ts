// The --threads option every computing command takes; it reaches every kernel call.
import type { Command } from 'commander';
import { parseIntegerOption } from './errors.js';

export interface ThreadsOption {
  threads?: number;
}

export function addThreadsOption(cmd: Command): Command {
  return cmd.option('--threads <n>', 'OpenMP threads for every kernel (default: CNN_THREADS, else all cores)',
    parseIntegerOption('threads', 1, 1024));
}

export async function applyThreadsOption(opts: ThreadsOption): Promise<void> {
  const { setThreads } = await import('../tensor/native.js');
  if (opts.threads !== undefined) setThreads(opts.threads);
}
