// Errors of the command line itself (bad usage the commands find): CnnErrors with exit code 2.
import { CnnError, type ExitCode } from '../errors.js';

/** Bad input from the user (options, files): printed as one line, exit code 2 unless given. */
export class UserError extends CnnError {
  constructor(message: string, exitCode: ExitCode = 2) {
    super(message, { exitCode });
  }
}

/** "Expected integer between 1 and 1024 for threads but received 0 of type number". */
export function invalidParameter(name: string, expected: string, actual: unknown): UserError {
  return new UserError(`Expected ${expected} for ${name} but received ${String(actual)} of type ${typeof actual}`);
}

export function parseIntegerOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      throw invalidParameter(name, `integer between ${min} and ${max}`, value);
    }
    return n;
  };
}
