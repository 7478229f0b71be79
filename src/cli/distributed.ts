// How `cnn train` ends under mpirun. An error every rank agreed on (a non-finite loss) ends each
// rank normally, rank 0 alone saying why. Any other error on any rank ends the whole job with
// MPI_Abort, naming the rank, so no rank waits forever in a collective for one that is gone.
import { launchFacts } from '../dist/launch.js';
import { joinWorld, NoMpiSupportError } from '../dist/world.js';
import { UserError } from './errors.js';
import type { ExitCode } from '../errors.js';

/** True when this process is one rank of several. */
export function launchedAsRanks(): boolean {
  return launchFacts().size > 1;
}

/** Rank 0 (or a process of its own) speaks for the job. */
export function isLeaderRank(): boolean {
  return launchFacts().rank === 0;
}

/** Normal end of a rank: MPI_Finalize (every rank gets here at the same step). */
export function finishRank(): void {
  if (launchedAsRanks()) joinWorld().finalize();
}

/**
 * The error a rank ends with. Agreed errors come back for the CLI to print on rank 0 (the other
 * ranks exit with the same code silently); anything else aborts the job from here.
 */
export function rankFailure(err: unknown, agreed: boolean, exitCode: ExitCode): unknown {
  const { rank, size } = launchFacts();
  if (err instanceof NoMpiSupportError) return rank === 0 ? new UserError(err.message) : new UserError('', 2);
  if (agreed) {
    finishRank();
    return rank === 0 ? err : new UserError('', exitCode);
  }
  const message = err instanceof Error ? err.message : String(err);
  console.error(`cnn: rank ${rank} of ${size}: ${message}`);
  if (process.env.CNN_DEBUG && err instanceof Error) console.error(err.stack);
  return joinWorld().abort(exitCode);
}
