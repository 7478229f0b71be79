// Runs a program on N ranks with Open MPI's mpirun, on this machine (as root in CI, with more
// ranks than cores allowed).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { repoRoot } from './fixtures.js';

export const mpiEnv = { OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1', OMPI_MCA_btl_vader_single_copy_mechanism: 'none' };

export function mpirunArgs(np: number): string[] {
  return ['-np', String(np), '--oversubscribe', '--bind-to', 'none'];
}

/** mpirun -np N node <script> args… (script relative to the repository root). */
export function runMpi(np: number, script: string, args: string[] = [], env: Record<string, string> = {}, timeout = 600_000): SpawnSyncReturns<string> {
  return spawnSync('mpirun', [...mpirunArgs(np), process.execPath, `${repoRoot}${script}`, ...args], {
    encoding: 'utf8', cwd: repoRoot, env: { ...process.env, ...mpiEnv, ...env }, timeout,
  });
}
