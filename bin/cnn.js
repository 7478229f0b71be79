#!/usr/bin/env node
// Loading the library applies CNN_ISA, CNN_CONV_ALGO and CNN_THREADS; a bad value is a bad option (one line, exit 2).
import('../dist/src/cli/main.js').then(({ main }) => main(process.argv), (err) => {
  process.stderr.write(process.env.CNN_DEBUG === '1' ? `${err.stack}\n` : `cnn: ${err.message}\n`);
  process.exitCode = err instanceof RangeError ? 2 : 1;
});
