// confusion_matrix.png: counts (left) and row-normalized rates (right), rows = true class,
// columns = predicted class. Cells shrink with many classes; numbers and names are drawn only
// where they fit, long names are shortened.
import { FONT, escapeXml, shorten, renderSvgToPng } from './svg.js';

const MAX_GRID = 640;
const MAX_CELL = 56;
// The panel titles ("Normalized by true class" at 18 px) need about this much width.
const MIN_GRID = 260;
const LABEL_CHARS = 18;

function checkCounts(counts: readonly (readonly number[])[], classes: readonly string[]): void {
  const n = classes.length;
  if (n < 1) throw new RangeError('a confusion matrix needs at least one class');
  if (counts.length !== n || counts.some((row) => row.length !== n)) {
    throw new RangeError(`a confusion matrix for ${n} classes needs ${n}x${n} counts`);
  }
  for (const row of counts) {
    for (const v of row) if (!Number.isFinite(v) || v < 0) throw new RangeError(`confusion counts must be finite and non-negative, not ${v}`);
  }
}

// White to dark blue; text flips to white on dark cells.
function cellColor(t: number): string {
  const lerp = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${lerp(247, 8)},${lerp(251, 48)},${lerp(255, 107)})`;
}

function formatCount(v: number): string {
  return v >= 1e5 ? v.toExponential(0).replace('e+', 'e') : String(Math.round(v));
}

/** The SVG document renderConfusionMatrix writes. */
export function confusionSvg(counts: readonly (readonly number[])[], classes: readonly string[]): { svg: string; width: number; height: number } {
  checkCounts(counts, classes);
  const n = classes.length;
  const cell = Math.max(Math.ceil(MIN_GRID / n), 4, Math.min(MAX_CELL, Math.floor(MAX_GRID / n)));
  const grid = cell * n;
  const labelFont = Math.max(6, Math.min(13, cell - 2));
  const showLabels = cell >= 7;
  const names = classes.map((c) => shorten(c, LABEL_CHARS));
  const labelSpace = showLabels ? Math.ceil(Math.max(...names.map((s) => s.length)) * labelFont * 0.62) + 10 : 10;
  const top = 60, left = 40 + labelSpace, gap = 60 + labelSpace;
  const width = left + grid + gap + grid + 20;
  const height = top + grid + labelSpace + 40;
  const maxCount = Math.max(1, ...counts.flat());
  const rowSums = counts.map((row) => row.reduce((a, b) => a + b, 0));
  const parts: string[] = [];
  const drawPanel = (x0: number, title: string, value: (i: number, j: number) => number | null, scale: (v: number) => number, text: (v: number) => string) => {
    parts.push(`<text x="${x0 + grid / 2}" y="28" font-size="18" font-weight="bold" text-anchor="middle">${escapeXml(title)}</text>`);
    const numberFont = Math.min(13, Math.floor(cell / 3.2));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const v = value(i, j);
        const t = v === null ? 0 : Math.max(0, Math.min(1, scale(v)));
        parts.push(`<rect x="${x0 + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="${cellColor(t)}"/>`);
        if (numberFont >= 7) {
          const label = v === null ? '–' : text(v);
          parts.push(`<text x="${x0 + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + numberFont * 0.35}" font-size="${numberFont}" text-anchor="middle" fill="${t > 0.55 ? 'white' : 'black'}">${label}</text>`);
        }
      }
    }
    parts.push(`<rect x="${x0}" y="${top}" width="${grid}" height="${grid}" fill="none" stroke="#333"/>`);
    if (showLabels) {
      names.forEach((name, i) => {
        parts.push(`<text x="${x0 - 5}" y="${top + i * cell + cell / 2 + labelFont * 0.35}" font-size="${labelFont}" text-anchor="end">${escapeXml(name)}</text>`);
        const cx = x0 + i * cell + cell / 2 + labelFont * 0.35;
        parts.push(`<text transform="translate(${cx} ${top + grid + 5}) rotate(-90)" font-size="${labelFont}" text-anchor="end">${escapeXml(name)}</text>`);
      });
    }
    parts.push(`<text x="${x0 + grid / 2}" y="${height - 12}" font-size="13" text-anchor="middle">predicted</text>`);
    parts.push(`<text transform="translate(${x0 - labelSpace - 14} ${top + grid / 2}) rotate(-90)" font-size="13" text-anchor="middle">true</text>`);
  };
  drawPanel(left, 'Counts', (i, j) => counts[i][j], (v) => v / maxCount, formatCount);
  drawPanel(left + grid + gap, 'Normalized by true class', (i, j) => (rowSums[i] > 0 ? counts[i][j] / rowSums[i] : null), (v) => v, (v) => v.toFixed(2));
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="${FONT}">
<rect width="${width}" height="${height}" fill="white"/>
${parts.join('\n')}
</svg>`;
  return { svg, width, height };
}

/** Writes confusion_matrix.png (RGB); counts[true][predicted]. Rows with no samples show '–'. */
export async function renderConfusionMatrix(counts: readonly (readonly number[])[], classes: readonly string[], path: string): Promise<{ width: number; height: number }> {
  return renderSvgToPng(confusionSvg(counts, classes).svg, path);
}
