// The run folder: runs/<model>-<dataset>-N by default, holding args.json, metrics.csv,
// last.bin, best.bin and curves.png.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic-write.js';
import { join } from 'node:path';

export const METRICS_COLUMNS = ['epoch', 'train_loss', 'train_acc', 'val_loss', 'val_acc', 'val_top5', 'lr', 'seconds', 'images_per_sec'] as const;
export type MetricsRow = Record<(typeof METRICS_COLUMNS)[number], number>;

/** The first runs/<model>-<dataset>-N that does not exist yet (N from 1). */
export function nextRunFolder(root: string, model: string, dataset: string): string {
  const prefix = `${model}-${dataset}-`;
  const taken = existsSync(root) ? readdirSync(root).filter((n) => n.startsWith(prefix)).map((n) => Number(n.slice(prefix.length))) : [];
  const n = Math.max(0, ...taken.filter(Number.isInteger)) + 1;
  return join(root, `${prefix}${n}`);
}

export function ensureFolder(path: string): void {
  mkdirSync(path, { recursive: true });
}

export function writeArgs(folder: string, args: object): void {
  writeFileAtomic(join(folder, 'args.json'), `${JSON.stringify(args, null, 2)}\n`);
}

/** Strict CSV: a header, then one line per epoch; numbers only, so nothing needs quoting. */
function metricsText(rows: readonly MetricsRow[]): string {
  return [METRICS_COLUMNS.join(','), ...rows.map((row) => METRICS_COLUMNS.map((c) => formatNumber(row[c])).join(','))].join('\n') + '\n';
}

/** Rewrites the whole (small) file through the atomic writer, so a crash never leaves half a row. */
export function appendMetrics(folder: string, row: MetricsRow): void {
  writeFileAtomic(join(folder, 'metrics.csv'), metricsText([...readMetrics(folder), row]));
}

function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(8)));
}

export function readMetrics(folder: string): MetricsRow[] {
  const path = join(folder, 'metrics.csv');
  if (!existsSync(path)) return [];
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const cols = header.split(',');
  return lines.filter((l) => l).map((l) => {
    const values = l.split(',').map(Number);
    return Object.fromEntries(cols.map((c, i) => [c, values[i]])) as MetricsRow;
  });
}

/** Keeps rows up to `epoch` (a resumed run rewrites what came after its checkpoint). */
export function truncateMetrics(folder: string, epoch: number): void {
  if (!existsSync(join(folder, 'metrics.csv'))) return;
  writeFileAtomic(join(folder, 'metrics.csv'), metricsText(readMetrics(folder).filter((r) => r.epoch <= epoch)));
}
