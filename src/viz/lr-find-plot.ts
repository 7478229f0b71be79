// lr-find's picture: the smoothed loss against the learning rate on a log axis, as fastai's
// plot_lr_find draws it (the last five points left out), with both suggestions marked.
import { FONT, escapeXml, niceTicks, formatTick, renderSvgToPng } from './svg.js';

export interface LrFindMark {
  label: string;
  /** The suggested learning rate (a dashed vertical line). */
  lr: number;
  /** The point of the curve the suggestion was read from (a dot). */
  at: [number, number];
}

const WIDTH = 800, HEIGHT = 500;
const PLOT = { top: 50, bottom: 60, left: 80, right: 30 };
const CURVE_COLOR = '#1f77b4', MARK_COLORS = ['#ff7f0e', '#2ca02c'];
/** fastai's plot_lr_find(skip_end=5). */
const SKIP_END = 5;

/** The SVG document of the curve. */
export function lrFindSvg(lrs: readonly number[], losses: readonly number[], marks: readonly LrFindMark[], title: string): string {
  const shown = lrs.length > SKIP_END + 1 ? lrs.length - SKIP_END : lrs.length;
  const points = lrs.slice(0, shown).map((lr, i) => [lr, losses[i]] as [number, number]).filter(([lr, l]) => lr > 0 && Number.isFinite(l));
  const left = PLOT.left, right = WIDTH - PLOT.right, top = PLOT.top, bottom = HEIGHT - PLOT.bottom;
  const xs = [...points.map((p) => Math.log10(p[0])), ...marks.map((m) => Math.log10(m.lr))];
  const ys = [...points.map((p) => p[1]), ...marks.map((m) => m.at[1])];
  let [xLo, xHi] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [-7, 1];
  if (!(xHi > xLo)) [xLo, xHi] = [xLo - 0.5, xHi + 0.5];
  let [yLo, yHi] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  const pad = (yHi - yLo) * 0.05 || 0.5;
  [yLo, yHi] = [yLo - pad, yHi + pad];
  const sx = (lr: number) => left + ((Math.log10(lr) - xLo) / (xHi - xLo)) * (right - left);
  const sy = (v: number) => bottom - ((v - yLo) / (yHi - yLo)) * (bottom - top);
  const parts: string[] = [];
  parts.push(`<text x="${(left + right) / 2}" y="30" font-size="18" font-weight="bold" text-anchor="middle">${escapeXml(title)}</text>`);
  for (const t of niceTicks(yLo, yHi, 6).filter((t) => t >= yLo && t <= yHi)) {
    parts.push(`<line x1="${left}" x2="${right}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e0e0e0"/>`);
    parts.push(`<text x="${left - 6}" y="${sy(t) + 4}" font-size="12" text-anchor="end">${formatTick(t)}</text>`);
  }
  // One tick per decade.
  for (let k = Math.ceil(xLo); k <= Math.floor(xHi); k++) {
    const x = sx(10 ** k);
    parts.push(`<line x1="${x}" x2="${x}" y1="${top}" y2="${bottom}" stroke="#e0e0e0"/>`);
    parts.push(`<text x="${x}" y="${bottom + 19}" font-size="12" text-anchor="middle">1e${k}</text>`);
  }
  parts.push(`<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${(left + right) / 2}" y="${HEIGHT - 18}" font-size="13" text-anchor="middle">learning rate (log scale)</text>`);
  parts.push(`<text transform="translate(22 ${(top + bottom) / 2}) rotate(-90)" font-size="13" text-anchor="middle">smoothed loss</text>`);
  if (points.length > 1) {
    const d = points.map(([lr, l], i) => `${i === 0 ? 'M' : 'L'}${sx(lr).toFixed(2)},${sy(l).toFixed(2)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${CURVE_COLOR}" stroke-width="2"/>`);
  }
  marks.forEach((m, i) => {
    const color = MARK_COLORS[i % MARK_COLORS.length];
    parts.push(`<line x1="${sx(m.lr).toFixed(2)}" x2="${sx(m.lr).toFixed(2)}" y1="${top}" y2="${bottom}" stroke="${color}" stroke-width="1.5" stroke-dasharray="6,4"/>`);
    parts.push(`<circle cx="${sx(m.at[0]).toFixed(2)}" cy="${sy(m.at[1]).toFixed(2)}" r="6" fill="${color}"/>`);
    const ly = top + 20 + i * 20, lx = left + 14;
    parts.push(`<circle cx="${lx}" cy="${ly - 4}" r="5" fill="${color}"/>`);
    parts.push(`<text x="${lx + 12}" y="${ly}" font-size="13">${escapeXml(m.label)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="${FONT}">
<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>
${parts.join('\n')}
</svg>`;
}

/** Writes the curve as an 800×500 RGB PNG. */
export async function renderLrFind(path: string, lrs: readonly number[], losses: readonly number[], marks: readonly LrFindMark[], title: string): Promise<{ width: number; height: number }> {
  return renderSvgToPng(lrFindSvg(lrs, losses, marks, title), path);
}
