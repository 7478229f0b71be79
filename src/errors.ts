// One error model for the whole product: every fault a user can cause or meet is a CnnError that
// carries its exit code and the option or file it concerns, raised where the fault is known. The
// CLI prints `cnn: <message>` and exits with the code; nothing needs translating on the way up.

/** 2: a bad option or input file; 1: a failure at run time; 130: interrupted (Ctrl-C). */
export type ExitCode = 1 | 2 | 130;

export interface CnnErrorOptions {
  exitCode?: ExitCode;
  /** The option the message is about, as typed: '--lr'. */
  option?: string;
  /** The file the message is about. */
  file?: string;
  cause?: unknown;
}

export class CnnError extends Error {
  readonly exitCode: ExitCode;
  readonly option?: string;
  readonly file?: string;

  constructor(message: string, o: CnnErrorOptions = {}) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
    this.name = new.target.name;
    this.exitCode = o.exitCode ?? 2;
    if (o.option !== undefined) this.option = o.option;
    if (o.file !== undefined) this.file = o.file;
  }
}

/** A bad option value or combination (exit 2), naming the option. */
export class ConfigError extends CnnError {
  constructor(message: string, option?: string) {
    super(message, { option });
  }
}
