// Whether large tensors land on 2 MiB pages. Where the kernel's transparent huge pages are
// 'madvise' (Debian's default), glibc's malloc asks for them only with the tunable
// glibc.malloc.hugetlb=1 (glibc 2.35+). Without it every 4 KiB of a fresh buffer is its own page
// fault: on a virtual machine, building VGG-16 and its first steps take several times longer, and
// its steady steps a quarter longer (TLB misses). The tunable is read only when a program starts,
// so `cnn` starts itself again with it (restartWithHugePages).
import { readFileSync } from 'node:fs';

export const HUGE_PAGES_TUNABLE = 'glibc.malloc.hugetlb=1';

export interface HugePages {
  /** The kernel's transparent-huge-page mode ('always', 'madvise', 'never'), or null where there is none. */
  kernel: string | null;
  /** glibc's version, or null under another C library. */
  glibc: string | null;
  /** Whether large allocations of this process use huge pages. */
  inUse: boolean;
  /** One line for `cnn doctor`. */
  summary: string;
}

/** Whether this glibc reads glibc.malloc.hugetlb (2.35+); null: another C library. */
function glibcHasTunable(glibc: string | null): boolean {
  const [major, minor] = (glibc ?? '').split('.').map(Number);
  return glibc !== null && major * 1000 + minor >= 2035;
}

export function describeHugePages(kernel: string | null, glibc: string | null, tunables: string): HugePages {
  const tunableSet = /(^|:)glibc\.malloc\.hugetlb=[12](:|$)/.test(tunables);
  const canAsk = glibcHasTunable(glibc);
  const inUse = kernel === 'always' || (kernel === 'madvise' && canAsk && tunableSet);
  let summary: string;
  if (kernel === null || kernel === 'never') summary = `transparent huge pages ${kernel ?? 'not available'}: large tensors use 4 KiB pages`;
  else if (kernel === 'always') summary = 'transparent huge pages always: large tensors use 2 MiB pages';
  else if (inUse) summary = `transparent huge pages madvise; GLIBC_TUNABLES=${HUGE_PAGES_TUNABLE} is set: large tensors use 2 MiB pages`;
  else if (!canAsk) summary = `transparent huge pages madvise, but ${glibc ? `glibc ${glibc}` : 'this C library'} cannot ask for them (glibc 2.35+ can): large tensors use 4 KiB pages`;
  else summary = `transparent huge pages madvise: large tensors use 4 KiB pages (export GLIBC_TUNABLES=${HUGE_PAGES_TUNABLE} for 2 MiB ones: big models build and start faster)`;
  return { kernel, glibc, inUse, summary };
}

function kernelMode(): string | null {
  try {
    return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1] ?? null;
  } catch {
    return null; // Not Linux, or a kernel without transparent huge pages.
  }
}

function glibcVersion(): string | null {
  return (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime ?? null;
}

/** This process's huge-page situation. */
export function hugePages(): HugePages {
  return describeHugePages(kernelMode(), glibcVersion(), process.env.GLIBC_TUNABLES ?? '');
}

/**
 * Where huge pages need the tunable and the environment does not mention it (a user's
 * glibc.malloc.hugetlb=0 is a choice and kept), replaces this process with the same command run
 * with it: same pid, arguments and files. `env` is the environment as the process started, before
 * loading the addon set OpenMP's variables. Returns when there is nothing to do or the exec failed.
 */
export async function restartWithHugePages(env: NodeJS.ProcessEnv): Promise<void> {
  const tunables = env.GLIBC_TUNABLES ?? '';
  if (tunables.includes('glibc.malloc.hugetlb') || kernelMode() !== 'madvise' || !glibcHasTunable(glibcVersion())) return;
  const entries = Object.entries({ ...env, GLIBC_TUNABLES: tunables ? `${tunables}:${HUGE_PAGES_TUNABLE}` : HUGE_PAGES_TUNABLE })
    .filter((e): e is [string, string] => e[1] !== undefined).map(([k, v]) => `${k}=${v}`);
  const { native } = await import('../tensor/native.js');
  try {
    native.execProcess(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], entries);
  } catch {
    // Run on with 4 KiB pages: slower to start, the same results.
  }
}
