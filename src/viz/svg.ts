// Small helpers for drawing charts as SVG and rendering them to PNG with sharp (librsvg).
import sharp from 'sharp';
import { writeFileAtomic } from '../io/atomic-write.js';

export const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Cuts a label to at most max characters, ending in an ellipsis. */
export function shorten(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(1, max - 1))}…`;
}

/** Round tick values covering [lo, hi], about `count` of them, at 1/2/5 × 10^k steps. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi <= lo) hi = lo + 1;
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

/** Renders an SVG document to an RGB PNG (white background, no alpha). */
export async function renderSvgToPng(svg: string, path: string): Promise<{ width: number; height: number }> {
  const { data, info } = await sharp(Buffer.from(svg), { limitInputPixels: false }).flatten({ background: '#ffffff' }).png()
    .toBuffer({ resolveWithObject: true });
  writeFileAtomic(path, data);
  return { width: info.width, height: info.height };
}
