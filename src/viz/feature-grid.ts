// A picture of one layer's activation: the first N channels as tiles in a near-square grid,
// each channel min-max normalized on its own and coloured with viridis; the PNG adds a title,
// each tile's channel number and a colour bar saying what the colours mean.
import sharp from 'sharp';
import { formatShape, type Tensor } from '../tensor/tensor.js';
import { applyColormap, type ColormapName } from './colormap.js';
import type { RgbImage } from './heatmap.js';
import { FONT, escapeXml, renderSvgToPng } from './svg.js';

export interface FeatureGridOptions {
  /** How many channels to show, from the first (default 16). */
  channels?: number;
  /** Tiles are scaled up (nearest neighbour, by a whole factor) to at least this many pixels on their longer side (default 64). */
  minTileSize?: number;
  /** Pixels between tiles (default 2). */
  gap?: number;
  colormap?: ColormapName;
}

const GAP_GRAY = 40;

export interface FeatureGrid extends RgbImage {
  channelsShown: number;
  columns: number;
  rows: number;
  tileWidth: number;
  tileHeight: number;
  gap: number;
}

export function featureGrid(activation: Tensor, o: FeatureGridOptions = {}): FeatureGrid {
  const s = activation.shape;
  if (!(s.length === 4 && s[0] === 1) && s.length !== 3) {
    throw new RangeError(`a feature grid needs a 1xCxHxW or CxHxW activation but received ${formatShape(s)}`);
  }
  const [c, h, w] = s.slice(-3);
  const requested = o.channels ?? 16;
  if (!Number.isInteger(requested) || requested < 1) throw new RangeError(`channels must be a positive integer, not ${requested}`);
  const shown = Math.min(requested, c);
  const scale = Math.max(1, Math.ceil((o.minTileSize ?? 64) / Math.max(h, w)));
  const gap = o.gap ?? 2;
  const columns = Math.ceil(Math.sqrt(shown)), rows = Math.ceil(shown / columns);
  const tileH = h * scale, tileW = w * scale;
  const width = columns * tileW + (columns - 1) * gap, height = rows * tileH + (rows - 1) * gap;
  const out = new Uint8Array(width * height * 3).fill(GAP_GRAY);
  const plane = h * w;
  for (let k = 0; k < shown; k++) {
    const src = activation.data.subarray(k * plane, (k + 1) * plane);
    let min = Infinity, max = -Infinity;
    for (const v of src) { min = Math.min(min, v); max = Math.max(max, v); }
    const range = max - min;
    const norm = Float32Array.from(src, (v) => (range > 0 ? (v - min) / range : 0));
    const rgb = applyColormap(norm, o.colormap ?? 'viridis');
    const top = Math.floor(k / columns) * (tileH + gap), left = (k % columns) * (tileW + gap);
    for (let y = 0; y < tileH; y++) {
      for (let x = 0; x < tileW; x++) {
        const from = (Math.floor(y / scale) * w + Math.floor(x / scale)) * 3;
        const to = ((top + y) * width + left + x) * 3;
        out[to] = rgb[from]; out[to + 1] = rgb[from + 1]; out[to + 2] = rgb[from + 2];
      }
    }
  }
  return { data: out, width, height, channelsShown: shown, columns, rows, tileWidth: tileW, tileHeight: tileH, gap };
}

const TITLE_H = 30, BAR_H = 46, MARGIN = 10;

function pngDataUri(png: Buffer): string {
  return `data:image/png;base64,${png.toString('base64')}`;
}

/**
 * Writes the grid as a PNG with a title line, the channel number in each tile's corner and a
 * viridis colour bar (each tile is scaled to its own min..max, so the bar reads low → high).
 */
export async function renderFeatureGrid(activation: Tensor, title: string, path: string, o: FeatureGridOptions = {}): Promise<FeatureGrid> {
  const grid = featureGrid(activation, { ...o, gap: o.gap ?? 4 });
  const raw = { raw: { width: grid.width, height: grid.height, channels: 3 as const } };
  const tiles = await sharp(Buffer.from(grid.data), raw).png().toBuffer();
  const ramp = Float32Array.from({ length: 256 }, (_, i) => i / 255);
  const bar = await sharp(Buffer.from(applyColormap(ramp, o.colormap ?? 'viridis')), { raw: { width: 256, height: 1, channels: 3 } }).png().toBuffer();
  const width = Math.max(grid.width, 320) + 2 * MARGIN, height = TITLE_H + grid.height + BAR_H;
  const labels: string[] = [];
  for (let k = 0; k < grid.channelsShown; k++) {
    const x = MARGIN + (k % grid.columns) * (grid.tileWidth + grid.gap), y = TITLE_H + Math.floor(k / grid.columns) * (grid.tileHeight + grid.gap);
    const text = String(k), w = 7 * text.length + 6;
    labels.push(`<rect x="${x}" y="${y}" width="${w}" height="15" fill="black" fill-opacity="0.6"/><text x="${x + 3}" y="${y + 12}" font-size="11" fill="white">${text}</text>`);
  }
  const barY = TITLE_H + grid.height + 12, barW = width - 2 * MARGIN;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="${FONT}">
<rect width="${width}" height="${height}" fill="white"/>
<text x="${MARGIN}" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>
<image x="${MARGIN}" y="${TITLE_H}" width="${grid.width}" height="${grid.height}" href="${pngDataUri(tiles)}" style="image-rendering:pixelated"/>
${labels.join('\n')}
<image x="${MARGIN}" y="${barY}" width="${barW}" height="10" preserveAspectRatio="none" href="${pngDataUri(bar)}"/>
<text x="${MARGIN}" y="${barY + 24}" font-size="11">low</text>
<text x="${MARGIN + barW / 2}" y="${barY + 24}" font-size="11" text-anchor="middle">each channel scaled to its own min..max</text>
<text x="${MARGIN + barW}" y="${barY + 24}" font-size="11" text-anchor="end">high</text>
</svg>`;
  await renderSvgToPng(svg, path);
  return { ...grid, width, height };
}
