// SVG files are drawings: their cost is what they draw, not their pixel count (a blurred
// 8000×8000 canvas rendered for 12 minutes at 2.1 GB). Importing this module blocks libvips' SVG
// *file* loader for the whole process, so no decoding path (predict, datasets, streaming) renders
// one by accident; --allow-svg lifts it. SVG given as a buffer (the charts cnn draws) stays allowed.
import sharp from 'sharp';

const SVG_FILE_LOADER = { operation: ['VipsForeignLoadSvgFile'] };

sharp.block(SVG_FILE_LOADER);

/** For --allow-svg: SVG files decode while `decode` runs (within the caller's time budget). */
export async function withSvgFiles<T>(decode: () => Promise<T>): Promise<T> {
  sharp.unblock(SVG_FILE_LOADER);
  try {
    return await decode();
  } finally {
    sharp.block(SVG_FILE_LOADER);
  }
}

/** Whether bytes look like XML/SVG text (what a blocked loader reports only as "unsupported"). */
export function looksLikeSvg(head: Uint8Array): boolean {
  return /^(\uFEFF)?\s*<(\?xml|svg|!--|!DOCTYPE svg)/i.test(new TextDecoder().decode(head.subarray(0, 256)));
}
