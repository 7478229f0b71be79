#!/usr/bin/env node
// First, where huge pages need glibc's start-up tunable, the same command starts again with it
// (src/cli/huge-pages.ts). Loading the library applies CNN_ISA, CNN_CONV_ALGO and CNN_THREADS; a
// bad value is a bad option (one line, exit 2).
const startEnv = { ...process.env };
import('../dist/src/cli/huge-pages.js')
  .then(({ restartWithHugePages }) => restartWithHugePages(startEnv))
  .then(() => import('../dist/src/cli/main.js'))
  .then(({ main }) => main(process.argv), (err) => {
    process.stderr.write(process.env.CNN_DEBUG === '1' ? `${err.stack}\n` : `cnn: ${err.message}\n`);
    process.exitCode = err instanceof RangeError ? 2 : 1;
  });
