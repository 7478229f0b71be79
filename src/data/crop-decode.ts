// One image file → the crop a model sees, CHW uint8, in one sharp pipeline on libuv's pool:
// torchvision's RandomResizedCrop samples its box on the original image and resizes only that
// box (a JPEG box 8× the output or more: the whole image shrunk while decoding, then the box cut);
// Resize(shorter side) + CenterCrop resizes the whole image (JPEGs shrink while decoding) and cuts
// the centre. PIL semantics: EXIF orientation ignored, alpha dropped, RGB or luma.
import { readFileSync } from 'node:fs';
import sharp, { type Sharp } from 'sharp';
import '../io/svg-policy.js';
import type { Generator } from '../tensor/random.js';
import { CenterCrop, Compose, Resize, ToTensor, type RandomResizedCrop } from './transforms.js';
import { augmentBatchAsync, planAugment } from './augment.js';
import type { ImageShape } from './image.js';
import { roundHalfEven } from './functional.js';
import { headerDimensions } from './image-size.js';
import { CorruptFileError } from './errors.js';

export type CropSpec =
  | { kind: 'randomResizedCrop'; crop: RandomResizedCrop }
  /** Resize the shorter side to `resize` (torchvision's Resize(int)), then CenterCrop(height, width). */
  | { kind: 'resizeCenterCrop'; resize: number; height: number; width: number };

/** Output height and width of a crop spec. */
export function cropOutputSize(spec: CropSpec): [number, number] {
  return spec.kind === 'randomResizedCrop' ? spec.crop.size : [spec.height, spec.width];
}

/** Refuse pixel floods before decoding (an 8k × 8k photo is 64 MP). */
const MAX_INPUT_PIXELS = 16384 * 16384;

/** A whole image decoded once (HWC, alpha dropped, RGB or luma), for loaders that keep images in memory. */
export interface DecodedOriginal {
  pixels: Buffer;
  width: number;
  height: number;
}

export async function decodeOriginal(file: string, channels: 1 | 3): Promise<DecodedOriginal> {
  try {
    let pipeline = sharp(file, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS }).removeAlpha();
    pipeline = channels === 1 ? pipeline.toColourspace('b-w') : pipeline.toColourspace('srgb');
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== channels) throw new Error(`decoded to ${info.channels} channels, expected ${channels}`);
    return { pixels: data, width: info.width, height: info.height };
  } catch (err) {
    throw new CorruptFileError(`cannot decode image ${file}: ${(err as Error).message}`);
  }
}

/**
 * Decodes `file` (or crops its decoded `original`) to the crop, written CHW into out at offset;
 * draws from gen for random crops.
 */
export async function decodeCrop(file: string, spec: CropSpec, channels: 1 | 3, gen: Generator, out: Uint8Array, offset: number,
  original?: DecodedOriginal): Promise<void> {
  const [outH, outW] = cropOutputSize(spec);
  try {
    let pipeline: Sharp, width: number, height: number, jpeg = false;
    if (original) {
      ({ width, height } = original);
      pipeline = sharp(original.pixels, { raw: { width, height, channels } });
    } else {
      // One synchronous read (tens of µs from the page cache) rather than fs.readFile's open, stat,
      // read and close, each a trip through libuv's pool queued behind the decodes running there.
      const input = readFileSync(file);
      jpeg = input[0] === 0xff && input[1] === 0xd8;
      const known = headerDimensions(input);
      if (known) {
        [width, height] = known;
      } else {
        const meta = await sharp(input, { limitInputPixels: MAX_INPUT_PIXELS }).metadata();
        if (!meta.width || !meta.height) throw new Error('no image size in the header');
        [width, height] = [meta.width, meta.height];
      }
      pipeline = sharp(input, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS, sequentialRead: true });
    }
    if (spec.kind === 'randomResizedCrop') {
      const box = spec.crop.params(height, width, gen);
      pipeline = jpeg && shrinksOnLoad(box, outH, outW) ? resizeThenExtract(pipeline, box, height, width, outH, outW)
        : pipeline.extract({ left: box[1], top: box[0], width: box[3], height: box[2] }).resize(outW, outH, { fit: 'fill', kernel: 'linear' });
    } else {
      const [rh, rw] = resizedSize(spec, height, width);
      if (rh > height) {
        // libvips upsamples with another pixel-centre alignment than PIL (up to half a pixel at
        // edges); small images are cheap, so they are enlarged by the augmenter's PIL-exact resize.
        const original = new Uint8Array(channels * width * height);
        await toChw(pipeline, channels, width * height, original, 0);
        await resizeCenterCrop(original, { channels, height, width }, [rh, rw], [outH, outW], out, offset);
        return;
      }
      const [top, left] = centerCropOffsets(rh, rw, outH, outW);
      pipeline = pipeline.resize(rw, rh, { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: false })
        .extract({ left, top, width: outW, height: outH });
    }
    await toChw(pipeline, channels, outH * outW, out, offset);
  } catch (err) {
    throw new CorruptFileError(`cannot decode image ${file}: ${(err as Error).message}`);
  }
}

/** Resize(shorter side)'s output size for an image; an error when it is smaller than the crop. */
function resizedSize(spec: Extract<CropSpec, { kind: 'resizeCenterCrop' }>, height: number, width: number): [number, number] {
  const [rh, rw] = new Resize(spec.resize).outputSize(height, width);
  if (rh < spec.height || rw < spec.width) throw new Error(`resized to ${rw}x${rh}, smaller than the ${spec.width}x${spec.height} crop`);
  return [rh, rw];
}

/** torchvision's center_crop offsets (top, left): int(round((in − out) / 2)). */
function centerCropOffsets(rh: number, rw: number, outH: number, outW: number): [number, number] {
  return [roundHalfEven((rh - outH) / 2), roundHalfEven((rw - outW) / 2)];
}

/**
 * The crop of an image of height × width as a box in its own pixels (top, left, height, width),
 * resized to the output size. Random crops: the box RandomResizedCrop samples from gen, cut
 * before resizing (the filter stops at the box's edges). Resize + CenterCrop: the centre of the
 * resized image mapped back onto the original, fractional, the filter stopping at the image's edges.
 */
export function originalBox(spec: CropSpec, height: number, width: number, gen: Generator): { box: number[]; clipToImage: boolean } {
  if (spec.kind === 'randomResizedCrop') return { box: spec.crop.params(height, width, gen), clipToImage: false };
  const [rh, rw] = resizedSize(spec, height, width);
  const [top, left] = centerCropOffsets(rh, rw, spec.height, spec.width);
  const sy = height / rh, sx = width / rw;
  return { box: [top * sy, left * sx, spec.height * sy, spec.width * sx], clipToImage: true };
}

/**
 * A JPEG box at least 8× the output on both sides is decoded shrunk: on a 4000×3000 photo a
 * 2600×2000 box costs 10 ms instead of 22 (a 224 crop). Under 8× the whole image at 1/2 or 1/4
 * scale costs about as much as the box at full size (1000×1000 box: 12.5 against 14.7 ms; a
 * 1000×750 photo: no gain), and cutting first is exact.
 */
export function shrinksOnLoad(box: readonly number[], outH: number, outW: number): boolean {
  return box[2]! >= 8 * outH && box[3]! >= 8 * outW;
}

/**
 * RandomResizedCrop's box, cut after resizing the whole image by the box's scale, so libvips
 * decodes the JPEG at 1/4 or 1/8 scale (DCT scaling) and resizes what remains. The box is the
 * one sampled on the original; whole-pixel rounding of the scaled image and libvips' block
 * shrink (aligned to the image, not the box) move its content by under one output pixel.
 */
function resizeThenExtract(pipeline: Sharp, [top, left, h, w]: readonly number[], height: number, width: number, outH: number, outW: number): Sharp {
  const sy = outH / h!, sx = outW / w!;
  const rh = Math.max(outH, Math.round(height * sy)), rw = Math.max(outW, Math.round(width * sx));
  const y = Math.min(Math.round(top! * sy), rh - outH), x = Math.min(Math.round(left! * sx), rw - outW);
  return pipeline.resize(rw, rh, { fit: 'fill', kernel: 'linear' }).extract({ left: x, top: y, width: outW, height: outH });
}

/** Runs the pipeline to `channels` planes of `pixels` bytes each at out[offset…] (alpha dropped, RGB or luma as PIL's convert). */
async function toChw(pipeline: Sharp, channels: 1 | 3, pixels: number, out: Uint8Array, offset: number): Promise<void> {
  pipeline = pipeline.removeAlpha();
  const hwc = await (channels === 1 ? pipeline.toColourspace('b-w') : pipeline.toColourspace('srgb')).raw().toBuffer();
  if (hwc.length !== pixels * channels) throw new Error(`decoded to ${hwc.length} bytes, expected ${pixels * channels}`);
  hwcToChw(hwc, channels, out, offset);
}

/** Resize(size) + CenterCrop of one CHW image by the native augmenter, rounded back to uint8 as PIL stores it. */
async function resizeCenterCrop(image: Uint8Array, shape: ImageShape, size: [number, number], crop: [number, number],
  out: Uint8Array, offset: number): Promise<void> {
  const plan = planAugment(new Compose([new Resize(size), new CenterCrop(crop), new ToTensor()]), shape);
  const floats = await augmentBatchAsync(plan, image, Int32Array.of(0), Uint32Array.of(0), 1);
  for (let i = 0; i < floats.length; i++) out[offset + i] = Math.min(255, Math.max(0, Math.round(floats[i]! * 255)));
}

/** sharp's interleaved HWC pixels → planar CHW at out[offset…]. */
export function hwcToChw(pixels: Uint8Array, channels: number, out: Uint8Array, offset: number): void {
  const plane = pixels.length / channels;
  if (channels === 3) {
    // One pass over the pixels (the common case): about twice as fast as a strided pass per plane.
    const r = offset, g = offset + plane, b = offset + 2 * plane;
    for (let i = 0, j = 0; i < plane; i++, j += 3) {
      out[r + i] = pixels[j]!;
      out[g + i] = pixels[j + 1]!;
      out[b + i] = pixels[j + 2]!;
    }
    return;
  }
  for (let c = 0; c < channels; c++) {
    const dst = offset + c * plane;
    for (let i = 0, j = c; i < plane; i++, j += channels) out[dst + i] = pixels[j]!;
  }
}
