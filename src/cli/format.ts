// Number and table formatting shared by the commands' human-readable output.

/** 11689512 → "11,689,512". */
export function thousands(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** 1.82e9 → "1.82 G". */
export function si(n: number, digits = 2): string {
  const units = ['', ' K', ' M', ' G', ' T'];
  let i = 0;
  while (Math.abs(n) >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : digits)}${units[i]}`;
}

export function mebibytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(2)} MiB`;
}

/** Left-aligns text columns and right-aligns numeric ones (those listed in `right`). */
export function table(header: string[], rows: string[][], right: ReadonlySet<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
