// Errors the user can cause: one clear line and an exit code, never a stack trace.

/** Bad input from the user (options, files): printed as one line, exit code 2 unless given. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
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
