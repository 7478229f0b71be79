// curves.png: training and validation loss, accuracy, and the learning rate per epoch, drawn as
// SVG and rendered to PNG. Non-finite values are skipped; a single epoch shows as markers.
import { FONT, escapeXml, niceTicks, formatTick, renderSvgToPng } from './svg.js';

export interface CurveRow {
  epoch: number;
  train_loss: number;
  val_loss: number;
  train_acc: number;
  val_acc: number;
  /** The learning rate the epoch trained with (metrics.csv's lr column). */
  lr?: number;
}

const WIDTH = 1500, HEIGHT = 420;
const PANEL = { top: 50, bottom: 60, left: 70, right: 20 };
const TRAIN_COLOR = '#1f77b4', VAL_COLOR = '#ff7f0e', LR_COLOR = '#2ca02c';

interface Series { label: string; color: string; points: [number, number][] }

function finitePoints(rows: readonly CurveRow[], key: keyof CurveRow): [number, number][] {
  return rows.filter((r) => Number.isFinite(r.epoch) && Number.isFinite(r[key])).map((r) => [r.epoch, r[key] as number]);
}

function panel(x0: number, width: number, title: string, yLabel: string, series: Series[], yRange: (values: number[]) => [number, number], legendAtBottom: boolean): string {
  const left = x0 + PANEL.left, right = x0 + width - PANEL.right, top = PANEL.top, bottom = HEIGHT - PANEL.bottom;
  const parts: string[] = [];
  parts.push(`<text x="${(left + right) / 2}" y="28" font-size="18" font-weight="bold" text-anchor="middle">${escapeXml(title)}</text>`);
  const all = series.flatMap((s) => s.points);
  const epochs = all.map((p) => p[0]);
  const values = all.map((p) => p[1]);
  let [xLo, xHi] = epochs.length ? [Math.min(...epochs), Math.max(...epochs)] : [0, 1];
  if (xHi - xLo < 1) { xLo -= 0.5; xHi += 0.5; }
  let [yLo, yHi] = values.length ? yRange(values) : [0, 1];
  if (!(yHi > yLo)) { yLo -= 0.5; yHi += 0.5; }
  const sx = (e: number) => left + ((e - xLo) / (xHi - xLo)) * (right - left);
  const sy = (v: number) => bottom - ((v - yLo) / (yHi - yLo)) * (bottom - top);
  // grid, ticks and labels
  for (const t of niceTicks(yLo, yHi, 5).filter((t) => t >= yLo && t <= yHi)) {
    parts.push(`<line x1="${left}" x2="${right}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e0e0e0"/>`);
    parts.push(`<text x="${left - 6}" y="${sy(t) + 4}" font-size="12" text-anchor="end">${formatTick(t)}</text>`);
  }
  const xTicks = niceTicks(xLo, xHi, 8).filter((t) => Number.isInteger(t) && t >= xLo && t <= xHi);
  for (const t of xTicks) {
    parts.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${bottom}" y2="${bottom + 5}" stroke="#333"/>`);
    parts.push(`<text x="${sx(t)}" y="${bottom + 19}" font-size="12" text-anchor="middle">${t}</text>`);
  }
  parts.push(`<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${(left + right) / 2}" y="${HEIGHT - 18}" font-size="13" text-anchor="middle">epoch</text>`);
  parts.push(`<text transform="translate(${x0 + 18} ${(top + bottom) / 2}) rotate(-90)" font-size="13" text-anchor="middle">${escapeXml(yLabel)}</text>`);
  if (!all.length) parts.push(`<text x="${(left + right) / 2}" y="${(top + bottom) / 2}" font-size="14" fill="#888" text-anchor="middle">no data</text>`);
  // lines and markers
  for (const s of series) {
    if (s.points.length > 1) {
      const d = s.points.map(([e, v], i) => `${i === 0 ? 'M' : 'L'}${sx(e).toFixed(2)},${sy(v).toFixed(2)}`).join(' ');
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    }
    if (s.points.length <= 50) for (const [e, v] of s.points) parts.push(`<circle cx="${sx(e).toFixed(2)}" cy="${sy(v).toFixed(2)}" r="3" fill="${s.color}"/>`);
  }
  // legend
  series.forEach((s, i) => {
    // Loss falls and accuracy rises: the legend goes where the curves usually are not.
    const ly = legendAtBottom ? bottom - 12 - (series.length - 1 - i) * 18 : top + 16 + i * 18, lx = right - 90;
    parts.push(`<line x1="${lx}" x2="${lx + 20}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"/>`);
    parts.push(`<text x="${lx + 26}" y="${ly}" font-size="12">${escapeXml(s.label)}</text>`);
  });
  return parts.join('\n');
}

/** The SVG document renderCurves writes. */
export function curvesSvg(rows: readonly CurveRow[]): string {
  const third = WIDTH / 3;
  const lossRange = (v: number[]): [number, number] => [Math.min(0, ...v), Math.max(...v) * 1.05];
  // Accuracies as fractions get [0, 1]; as percentages, [0, 100].
  const accRange = (v: number[]): [number, number] => [Math.min(0, ...v), Math.max(...v) > 1 ? Math.max(100, ...v) : 1];
  const loss = panel(0, third, 'Loss', 'loss', [
    { label: 'train', color: TRAIN_COLOR, points: finitePoints(rows, 'train_loss') },
    { label: 'val', color: VAL_COLOR, points: finitePoints(rows, 'val_loss') },
  ], lossRange, false);
  const acc = panel(third, third, 'Accuracy', 'accuracy', [
    { label: 'train', color: TRAIN_COLOR, points: finitePoints(rows, 'train_acc') },
    { label: 'val', color: VAL_COLOR, points: finitePoints(rows, 'val_acc') },
  ], accRange, true);
  const lrRange = (v: number[]): [number, number] => [0, Math.max(...v) * 1.05];
  const lr = panel(2 * third, third, 'Learning rate', 'learning rate', [
    { label: 'lr', color: LR_COLOR, points: finitePoints(rows, 'lr') },
  ], lrRange, false);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="${FONT}">
<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>
${loss}
${acc}
${lr}
</svg>`;
}

/** Writes curves.png (1500×420 RGB) for the rows of metrics.csv. */
export async function renderCurves(rows: readonly CurveRow[], path: string): Promise<{ width: number; height: number }> {
  return renderSvgToPng(curvesSvg(rows), path);
}
