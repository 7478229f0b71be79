// Errors of the command line itself (bad usage the commands find): CnnErrors with exit code 2.
import { CnnError, type ExitCode } from '../errors.js';

/** Bad input from the user (options, files): printed as one line, exit code 2 unless given. */
export class UserError extends CnnError {
  constructor(message: string, exitCode: ExitCode = 2) {
    super(message, { exitCode });
  }
}
