// When whoever reads stdout goes away (`cnn predict ... | head`), writes fail with EPIPE. Node
// ignores SIGPIPE, so without a listener that error would end the process with a stack trace.
// Instead the output ends quietly: by default the command exits 0 at once, as a program killed by
// SIGPIPE would have ended; `cnn train` instead stops after the current step and saves last.bin.

let onClosed: () => void = () => process.exit(0);
let closed = false;

/** Whether stdout's reader has gone away. */
export function stdoutClosed(): boolean {
  return closed;
}

/** Replaces the default reaction (exit 0) to stdout closing, for commands that must finish cleanly. */
export function whenStdoutCloses(handler: () => void): void {
  onClosed = handler;
}

export function watchStdout(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    if (closed) return;
    closed = true;
    onClosed();
  });
}
