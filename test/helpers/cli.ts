// Runs the real `cnn` executable in a child process.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { repoRoot } from './fixtures.js';

export function runCli(args: string[], env: Record<string, string> = {}, cwd = repoRoot): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [`${repoRoot}bin/cnn.js`, ...args], {
    encoding: 'utf8',
    cwd,
    env: { ...process.env, ...env },
    // Generous: the test machines are shared, and a guard against a hang, not a speed check.
    timeout: 600_000,
  });
}
