// A picture of one layer's activation: the first N channels as tiles in a near-square grid,
// each channel min-max normalized on its own and coloured with viridis.
import { formatShape, type Tensor } from '../tensor/tensor.js';
import { applyColormap, type ColormapName } from './colormap.js';
import type { RgbImage } from './heatmap.js';

export interface FeatureGridOptions {
  /** How many channels to show, from the first (default 16). */
  channels?: number;
  /** Tiles are scaled up (nearest neighbour, by a whole factor) to at least this many pixels on their longer side (default 48). */
  minTileSize?: number;
  /** Pixels between tiles (default 2). */
  gap?: number;
  colormap?: ColormapName;
}

const GAP_GRAY = 40;

export function featureGrid(activation: Tensor, o: FeatureGridOptions = {}): RgbImage & { channelsShown: number; columns: number; rows: number } {
  const s = activation.shape;
  if (!(s.length === 4 && s[0] === 1) && s.length !== 3) {
    throw new RangeError(`a feature grid needs a 1xCxHxW or CxHxW activation but received ${formatShape(s)}`);
  }
  const [c, h, w] = s.slice(-3);
  const requested = o.channels ?? 16;
  if (!Number.isInteger(requested) || requested < 1) throw new RangeError(`channels must be a positive integer, not ${requested}`);
  const shown = Math.min(requested, c);
  const scale = Math.max(1, Math.ceil((o.minTileSize ?? 48) / Math.max(h, w)));
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
  return { data: out, width, height, channelsShown: shown, columns, rows };
}
