// Bilinear resampling of one plane as F.interpolate(mode='bilinear', align_corners=False):
// output pixel centres map back to (i + 0.5)·in/out − 0.5, clamped at the top-left edge.

interface Taps { i0: Int32Array; i1: Int32Array; frac: Float64Array }

function taps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const i0 = new Int32Array(outSize), i1 = new Int32Array(outSize), frac = new Float64Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const src = Math.max((i + 0.5) * scale - 0.5, 0);
    const lo = Math.min(Math.floor(src), inSize - 1);
    i0[i] = lo;
    i1[i] = Math.min(lo + 1, inSize - 1);
    frac[i] = src - lo;
  }
  return { i0, i1, frac };
}

/** Resamples an h×w plane (row-major) to outH×outW. */
export function resizeBilinear(plane: ArrayLike<number>, h: number, w: number, outH: number, outW: number): Float32Array {
  if (plane.length !== h * w) throw new RangeError(`resizeBilinear: a ${h}x${w} plane needs ${h * w} values but has ${plane.length}`);
  if (!Number.isInteger(outH) || !Number.isInteger(outW) || outH < 1 || outW < 1) {
    throw new RangeError(`resizeBilinear needs a positive integer size but received ${outH}x${outW}`);
  }
  const ty = taps(h, outH), tx = taps(w, outW);
  const out = new Float32Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    const r0 = ty.i0[y] * w, r1 = ty.i1[y] * w, fy = ty.frac[y];
    for (let x = 0; x < outW; x++) {
      const a = tx.i0[x], b = tx.i1[x], fx = tx.frac[x];
      const top = plane[r0 + a] + fx * (plane[r0 + b] - plane[r0 + a]);
      const bottom = plane[r1 + a] + fx * (plane[r1 + b] - plane[r1 + a]);
      out[y * outW + x] = top + fy * (bottom - top);
    }
  }
  return out;
}
