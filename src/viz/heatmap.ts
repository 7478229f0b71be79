// Pictures of a class activation map at an image's own size: a jet heatmap, and the heatmap
// blended over the image.
import type { DecodedImage } from '../io/image.js';
import { applyColormap, type ColormapName } from './colormap.js';
import { resizeBilinear } from './resample.js';

export interface RgbImage {
  /** height × width × 3. */
  data: Uint8Array;
  width: number;
  height: number;
}

/** The h×w map (values in [0,1]) resized bilinearly to width×height and coloured. */
export function heatmapImage(cam: ArrayLike<number>, h: number, w: number, width: number, height: number, colormap: ColormapName = 'jet'): RgbImage {
  const big = resizeBilinear(cam, h, w, height, width);
  return { data: applyColormap(big, colormap), width, height };
}

/** alpha·heatmap + (1 − alpha)·image, per pixel; a grayscale image counts as gray RGB. */
export function overlayImage(heatmap: RgbImage, image: DecodedImage, alpha: number): RgbImage {
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`alpha must be between 0 and 1, not ${alpha}`);
  if (heatmap.width !== image.width || heatmap.height !== image.height) {
    throw new RangeError(`heatmap ${heatmap.width}x${heatmap.height} and image ${image.width}x${image.height} differ in size`);
  }
  const n = image.width * image.height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const base = image.channels === 1 ? image.data[i] : image.data[i * 3 + c];
      out[i * 3 + c] = Math.round(alpha * heatmap.data[i * 3 + c] + (1 - alpha) * base);
    }
  }
  return { data: out, width: image.width, height: image.height };
}
