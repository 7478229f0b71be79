// Runs a check once under each ISA this CPU supports, then puts back the active ISA and the
// thread count (the check may set threads), whatever the check throws.
import { native, getThreads, setThreads } from '../../src/tensor/native.js';

export function onEveryIsa(check: (isa: string) => void): void {
  const { supported, active } = native.cpuInfo();
  const threads = getThreads();
  try {
    for (const isa of supported) {
      native.setIsa(isa);
      check(isa);
    }
  } finally {
    native.setIsa(active);
    setThreads(threads);
  }
}
