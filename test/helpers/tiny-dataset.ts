// A two-class image folder of 32 small PNGs: `cnn train` on it takes about a second, for tests
// that need real runs (disk full, kill -9, locks) rather than good accuracy.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

/** Writes root/a/*.png (dark) and root/b/*.png (bright); returns the train options that use it. */
export async function writeTinyImageFolder(root: string, perClass = 16): Promise<string[]> {
  for (const [k, cls] of ['a', 'b'].entries()) {
    mkdirSync(join(root, cls), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const pixels = Buffer.alloc(8 * 8 * 3, k === 0 ? 40 + i : 200 - i);
      await sharp(pixels, { raw: { width: 8, height: 8, channels: 3 } }).png().toFile(join(root, cls, `${i}.png`));
    }
  }
  return ['--dataset', 'imagefolder', '--data-dir', root, '--image-size', '28', '--val-split', '0.25', '--epochs', '1', '--quiet'];
}
