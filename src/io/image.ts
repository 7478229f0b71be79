// Image files through sharp: decode with one clear error per way a file can be bad, the
// preprocessing that inference shares with `cnn predict`, and PNG writing.
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { CnnError } from '../errors.js';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { writeFileAtomic } from './atomic-write.js';
import { looksLikeSvg, withSvgFiles } from './svg-policy.js';

/** Default refusal threshold: 64 megapixels (an 8k×8k photo), far below sharp's 268 MP. */
export const DEFAULT_MAX_PIXELS = 64 * 1024 * 1024;

/** A missing, unreadable or unsupported image file (exit 2). */
export class ImageError extends CnnError {}

/** 8-bit pixels, height × width × channels (interleaved, as sharp gives them). */
export interface DecodedImage {
  data: Uint8Array;
  width: number;
  height: number;
  /** 1 (grayscale) or 3 (RGB); alpha is dropped, other colour spaces become sRGB. */
  channels: 1 | 3;
}

/** An SVG's cost is its drawing (a blur over a large canvas ran 12 minutes), not its pixel count. */
export const SVG_RENDER_SECONDS = 10;

export interface ReadImageOptions {
  /** Refuse images with more pixels than this before decoding them (default DEFAULT_MAX_PIXELS). */
  maxPixels?: number;
  /** Render SVG drawings (within SVG_RENDER_SECONDS) instead of refusing them (--allow-svg). */
  allowSvg?: boolean;
}

/** Decodes an image file to 8-bit grayscale or RGB, HWC. */
export async function readImage(path: string, { maxPixels = DEFAULT_MAX_PIXELS, allowSvg = false }: ReadImageOptions = {}): Promise<DecodedImage> {
  if (!Number.isInteger(maxPixels) || maxPixels < 1) throw new RangeError(`maxPixels must be a positive integer, not ${maxPixels}`);
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new ImageError(`${path}: no such file`);
  }
  if (!isFile) throw new ImageError(`${path}: not a file`);
  return decodeImage(path, path, { maxPixels, allowSvg });
}

/** Decodes an image file's bytes (or the file at a path); `path` names it in errors. */
export async function decodeImage(input: string | Uint8Array, path: string, options: ReadImageOptions = {}): Promise<DecodedImage> {
  return options.allowSvg ? withSvgFiles(() => decodeChecked(input, path, options)) : decodeChecked(input, path, options);
}

async function decodeChecked(input: string | Uint8Array, path: string, { maxPixels = DEFAULT_MAX_PIXELS, allowSvg = false }: ReadImageOptions): Promise<DecodedImage> {
  const refuseSvg = () => new ImageError(`${path} is an SVG drawing; images are read from PNG, JPEG or WebP (pass --allow-svg to render it, within ${SVG_RENDER_SECONDS} s)`);
  // The header alone says how big the image is: refuse a huge one before decoding any pixel.
  let meta: Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (err) {
    // The blocked SVG file loader answers "unsupported image format": say what the file is.
    if (!allowSvg && typeof input === 'string' && looksLikeSvg(await readHead(input))) throw refuseSvg();
    throw new ImageError(`${path} is not a readable image (${(err as Error).message})`);
  }
  const svg = meta.format === 'svg';
  if (svg && !allowSvg) throw refuseSvg();
  const { width, height } = meta;
  if (!width || !height) throw new ImageError(`${path} is not a readable image (no size in its header)`);
  if (width * height > maxPixels) {
    throw new ImageError(`${path} is ${width}x${height} = ${width * height} pixels, above the limit of ${maxPixels}`);
  }
  const colourChannels = (meta.channels ?? 3) - (meta.hasAlpha ? 1 : 0);
  const gray = colourChannels === 1 || meta.space === 'b-w' || meta.space === 'grey16';
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    let pipeline = sharp(input, { failOn: 'error', limitInputPixels: maxPixels, sequentialRead: true }).removeAlpha();
    if (svg) pipeline = pipeline.timeout({ seconds: SVG_RENDER_SECONDS });
    decoded = await (gray ? pipeline.toColourspace('b-w') : pipeline.toColourspace('srgb')).raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new ImageError(`${path} is damaged or truncated (${(err as Error).message})`);
  }
  const channels = decoded.info.channels;
  if (channels !== 1 && channels !== 3) throw new ImageError(`${path} decoded to ${channels} channels, expected 1 or 3`);
  if (decoded.data.length !== width * height * channels) {
    throw new ImageError(`${path} decoded to ${decoded.data.length} bytes, expected ${width * height * channels}`);
  }
  return { data: new Uint8Array(decoded.data.buffer, decoded.data.byteOffset, decoded.data.length), width, height, channels };
}

async function readHead(path: string): Promise<Uint8Array> {
  const file = await open(path, 'r');
  try {
    const head = new Uint8Array(256);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/** Writes 8-bit RGB (HWC) or grayscale pixels as a PNG. */
export async function writePng(path: string, pixels: Uint8Array, width: number, height: number, channels: 1 | 3 = 3): Promise<void> {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`writePng needs a positive integer size but received ${width}x${height}`);
  }
  if (pixels.length !== width * height * channels) {
    throw new RangeError(`writePng: ${width}x${height}x${channels} needs ${width * height * channels} bytes but received ${pixels.length}`);
  }
  let pipeline = sharp(pixels, { raw: { width, height, channels } });
  // sharp writes 1-channel raw input as RGB unless told otherwise.
  if (channels === 1) pipeline = pipeline.toColourspace('b-w');
  writeFileAtomic(path, await pipeline.png().toBuffer());
}
