// `cnn doctor`: what this machine is, which kernels run, and whether every variant agrees
// with the scalar reference. Exit 1 if any disagree.
import type { Command } from 'commander';
import { addThreadsOption, applyThreadsOption, type ThreadsOption } from './threads.js';

export function addDoctorCommand(program: Command): void {
  addThreadsOption(
    program.command('doctor')
      .description('show the CPU, the kernel variant in use and OpenMP threads; self-check every variant')
      .option('--json', 'print one JSON object'),
  ).action(async (opts: ThreadsOption & { json?: boolean }) => {
    const { native, getThreads } = await import('../tensor/native.js');
    const { checkKernelVariants } = await import('../tensor/selfcheck.js');
    await applyThreadsOption(opts);
    const info = native.cpuInfo();
    const checks = checkKernelVariants();
    const ok = checks.every((c) => c.ok);
    if (opts.json) {
      console.log(JSON.stringify({ cpu: info.model, features: info.features, kernel: info.active,
        supported: info.supported, threads: getThreads(), checks, ok }));
    } else {
      console.log(`cpu:       ${info.model}`);
      console.log(`features:  ${info.features.join(' ') || '(none detected)'}`);
      console.log(`kernels:   ${info.active} (supported: ${info.supported.join(', ')}${process.env.CNN_ISA ? '; forced by CNN_ISA' : ''})`);
      console.log(`threads:   ${getThreads()} (OpenMP; set with --threads or CNN_THREADS)`);
      for (const c of checks) {
        console.log(`self-check ${c.isa.padEnd(7)} gemm max error ${c.gemmMaxError.toExponential(1)}, conv max error ${c.convMaxError.toExponential(1)}: ${c.ok ? 'ok' : 'FAILED'}`);
      }
    }
    if (!ok) process.exitCode = 1;
  });
}
