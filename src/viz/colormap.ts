// 256-entry colour tables (RGB, 8-bit) and the lookup matplotlib does: value v in [0,1] takes
// entry floor(v·256), clipped to 255.

export type ColormapName = 'jet' | 'viridis';

/** 256 × RGB, row-major. */
export type ColorTable = Uint8Array;

type Segment = readonly (readonly [number, number])[];

// matplotlib's jet as piecewise-linear segments (x, value) per channel (_jet_data).
const JET: readonly [Segment, Segment, Segment] = [
  [[0, 0], [0.35, 0], [0.66, 1], [0.89, 1], [1, 0.5]],
  [[0, 0], [0.125, 0], [0.375, 1], [0.64, 1], [0.91, 0], [1, 0]],
  [[0, 0.5], [0.11, 1], [0.34, 1], [0.65, 0], [1, 0]],
];

// viridis through its ten evenly spaced key colours (as R's viridis(10) lists them),
// interpolated linearly: within a few levels of the published 256-entry table.
const VIRIDIS_KEYS = ['440154', '482878', '3e4a89', '31688e', '26828e', '1f9e89', '35b779', '6dcd59', 'b4de2c', 'fde725'];

function segmentValue(seg: Segment, x: number): number {
  for (let i = 1; i < seg.length; i++) {
    const [x0, y0] = seg[i - 1], [x1, y1] = seg[i];
    if (x <= x1) return x1 === x0 ? y1 : y0 + ((x - x0) / (x1 - x0)) * (y1 - y0);
  }
  return seg[seg.length - 1][1];
}

function buildJet(): ColorTable {
  const t = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    for (let c = 0; c < 3; c++) t[i * 3 + c] = Math.trunc(255 * segmentValue(JET[c], i / 255)); // truncates as matplotlib bytes=True
  }
  return t;
}

function buildViridis(): ColorTable {
  const keys = VIRIDIS_KEYS.map((hex) => [0, 2, 4].map((k) => parseInt(hex.slice(k, k + 2), 16)));
  const t = new Uint8Array(256 * 3);
  const last = keys.length - 1;
  for (let i = 0; i < 256; i++) {
    const pos = (i / 255) * last;
    const k = Math.min(Math.floor(pos), last - 1), f = pos - k;
    for (let c = 0; c < 3; c++) t[i * 3 + c] = Math.round(keys[k][c] + f * (keys[k + 1][c] - keys[k][c]));
  }
  return t;
}

export const COLORMAPS: Readonly<Record<ColormapName, ColorTable>> = Object.freeze({ jet: buildJet(), viridis: buildViridis() });

/** The table index for v (NaN and values below 0 take entry 0, above 1 entry 255). */
export function colormapIndex(v: number): number {
  if (!(v > 0)) return 0;
  return Math.min(255, Math.floor(v * 256));
}

/** Maps values in [0,1] to interleaved RGB bytes. */
export function applyColormap(values: ArrayLike<number>, name: ColormapName = 'jet'): Uint8Array {
  const table = COLORMAPS[name];
  const out = new Uint8Array(values.length * 3);
  for (let i = 0; i < values.length; i++) {
    const k = colormapIndex(values[i]) * 3;
    out[i * 3] = table[k];
    out[i * 3 + 1] = table[k + 1];
    out[i * 3 + 2] = table[k + 2];
  }
  return out;
}
