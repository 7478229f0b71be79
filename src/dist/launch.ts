// Was this process started by an MPI launcher? Open MPI's mpirun sets OMPI_COMM_WORLD_*;
// MPICH's hydra, Intel MPI and Slurm's PMI set PMI_*; PMIx launchers set PMIX_RANK with one of them.

export interface LaunchFacts {
  /** Ranks in the job (1 when not launched by mpirun). */
  size: number;
  rank: number;
  /** Ranks on this machine; the cores are divided between them. */
  localSize: number;
}

function intFrom(env: NodeJS.ProcessEnv, names: string[]): number | undefined {
  for (const name of names) {
    const v = env[name];
    if (v !== undefined && /^\d+$/.test(v)) return Number(v);
  }
  return undefined;
}

export function launchFacts(env: NodeJS.ProcessEnv = process.env): LaunchFacts {
  const size = intFrom(env, ['OMPI_COMM_WORLD_SIZE', 'PMI_SIZE', 'PMIX_SIZE']) ?? 1;
  const rank = intFrom(env, ['OMPI_COMM_WORLD_RANK', 'PMI_RANK', 'PMIX_RANK']) ?? 0;
  const localSize = intFrom(env, ['OMPI_COMM_WORLD_LOCAL_SIZE', 'MPI_LOCALNRANKS', 'PMI_LOCAL_SIZE']) ?? size;
  return { size: Math.max(size, 1), rank, localSize: Math.max(localSize, 1) };
}
