// Whether large tensors land on 2 MiB pages. Where the kernel's transparent huge pages are
// 'madvise' (Debian's default), glibc's malloc asks for them only with the tunable
// glibc.malloc.hugetlb=1 (glibc 2.35+). Without it every 4 KiB of a fresh buffer is its own page
// fault: on a virtual machine, building VGG-16 and its first steps take several times longer.
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

export function describeHugePages(kernel: string | null, glibc: string | null, tunables: string): HugePages {
  const tunableSet = /(^|:)glibc\.malloc\.hugetlb=[12](:|$)/.test(tunables);
  const glibcHasTunable = glibc !== null && Number(glibc.split('.')[0]) * 1000 + Number(glibc.split('.')[1]) >= 2035;
  const inUse = kernel === 'always' || (kernel === 'madvise' && glibcHasTunable && tunableSet);
  let summary: string;
  if (kernel === null || kernel === 'never') summary = `transparent huge pages ${kernel ?? 'not available'}: large tensors use 4 KiB pages`;
  else if (kernel === 'always') summary = 'transparent huge pages always: large tensors use 2 MiB pages';
  else if (inUse) summary = `transparent huge pages madvise; GLIBC_TUNABLES=${HUGE_PAGES_TUNABLE} is set: large tensors use 2 MiB pages`;
  else if (!glibcHasTunable) summary = `transparent huge pages madvise, but ${glibc ? `glibc ${glibc}` : 'this C library'} cannot ask for them (glibc 2.35+ can): large tensors use 4 KiB pages`;
  else summary = `transparent huge pages madvise: large tensors use 4 KiB pages (export GLIBC_TUNABLES=${HUGE_PAGES_TUNABLE} for 2 MiB ones: big models build and start faster)`;
  return { kernel, glibc, inUse, summary };
}

/** This process's huge-page situation. */
export function hugePages(): HugePages {
  let kernel: string | null = null;
  try {
    kernel = /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1] ?? null;
  } catch {
    // Not Linux, or a kernel without transparent huge pages.
  }
  const header = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header;
  return describeHugePages(kernel, header.glibcVersionRuntime ?? null, process.env.GLIBC_TUNABLES ?? '');
}
