// `cnn doctor`: what this machine is, which kernels run, and whether every variant agrees
// with the scalar reference. Exit 1 if any disagree.
import type { Command } from 'commander';
import { computingCommand } from './threads.js';
import { jsonRow } from './shared-rows.js';

export function addDoctorCommand(program: Command): void {
  const description = 'show the CPU, the kernel variant in use and OpenMP threads; self-check every variant';
  computingCommand(program, 'doctor', description, [jsonRow('print one JSON object')]).action(async (opts: { json: boolean }) => {
    const { native, getThreads } = await import('../tensor/native.js');
    const { checkKernelVariants } = await import('../tensor/selfcheck.js');
    const info = native.cpuInfo();
    const { probeMpi } = await import('../dist/world.js');
    const checks = checkKernelVariants();
    const mpi = probeMpi();
    const { jpegDecoderName } = await import('../data/stream-loader.js');
    const jpegDecoder = jpegDecoderName();
    const { hugePages } = await import('./huge-pages.js');
    const { kernel, glibc, inUse, summary: memory } = hugePages();
    const ok = checks.every((c) => c.ok);
    if (opts.json) {
      console.log(JSON.stringify({ cpu: info.model, features: info.features, kernel: info.active,
        supported: info.supported, threads: getThreads(), mpi, jpegDecoder, hugePages: { kernel, glibc, inUse }, checks, ok }));
    } else {
      console.log(`cpu:       ${info.model}`);
      console.log(`features:  ${info.features.join(' ') || '(none detected)'}`);
      console.log(`kernels:   ${info.active} (supported: ${info.supported.join(', ')}${process.env.CNN_ISA ? '; forced by CNN_ISA' : ''})`);
      console.log(`threads:   ${getThreads()} (OpenMP; set with --threads or CNN_THREADS)`);
      console.log(`mpi:       ${!mpi.available ? 'not built in (for mpirun -np N cnn train: install Open MPI, e.g. apt-get install openmpi-bin libopenmpi-dev, then npm run build:native)'
        : mpi.error ? `found: ${mpi.version}; cannot start: ${mpi.error}` : `found: ${mpi.version}; thread level ${mpi.threadLevel}`}`);
      console.log(`jpeg:      ${jpegDecoder} decodes image-folder JPEGs${jpegDecoder.startsWith('sharp') ? ' (for the faster native decoder: apt-get install libjpeg62-turbo-dev, then npm run build:native)' : '; other formats: sharp'}`);
      console.log(`memory:    ${memory}`);
      for (const c of checks) {
        console.log(`self-check ${c.isa.padEnd(7)} gemm max error ${c.gemmMaxError.toExponential(1)}, conv max error ${c.convMaxError.toExponential(1)}, pool max error ${c.poolMaxError.toExponential(1)}, optimizer max error ${c.optimMaxError.toExponential(1)}, batch norm max error ${c.normMaxError.toExponential(1)}: ${c.ok ? 'ok' : 'FAILED'}`);
      }
    }
    if (!ok) process.exitCode = 1;
  });
}
