// JPEG crops decoded by the addon's libjpeg-turbo decoder (native/image), a whole batch per call
// on libuv's pool with OpenMP threads over its images: sharp costs a pipeline per image, and on
// 500×375 photos that overhead, not the decoding, was most of the loader's time. JS reads each
// file and its header and samples the box on the original exactly as the sharp path does (same
// generator draws); the addon decodes only the box's blocks at the largest DCT scale that keeps
// it at least the output size, resizes it with PIL's filter and writes the batch into memory it
// hands to JS (no copy on the JS thread). Files it does not take (not JPEG, CMYK) are handed back.
import { readFileSync } from 'node:fs';
import { native } from '../tensor/native.js';
import type { Generator } from '../tensor/random.js';
import { cropOutputSize, originalBox, type CropSpec } from './crop-decode.js';
import { CorruptFileError } from './errors.js';
import { headerDimensions } from './image-size.js';

/** The addon's JPEG decoder ('libjpeg-turbo 2.1.5'), or null: then every file decodes with sharp. */
export const nativeJpegDecoder: string | null = native.jpegDecoder();

/** One image of a batch: its file, its slot in the batch, its crop's generator, whether it is mirrored. */
export interface CropJob {
  file: string;
  slot: number;
  gen: Generator;
  flip: boolean;
}

export interface JpegCrops<P extends Uint8Array | Float32Array> {
  /** `count` images, CHW, 3 channels: the decoded slots filled, the others zeros. */
  pixels: P;
  /** Jobs this decoder does not take (not a JPEG, CMYK, an unreadable header): decode them with sharp. */
  others: CropJob[];
  /** Jobs whose file could not be read or decoded. */
  failed: { job: CropJob; error: CorruptFileError }[];
}

const STATUS_OK = 0, STATUS_UNSUPPORTED = 1;

const isJpeg = (b: Uint8Array): boolean => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

/** uint8 levels, or ToTensor + Normalize's floats with this mean and std. */
export type CropOutput = { floats: false } | { floats: true; mean: readonly number[]; std: readonly number[] };

/** Runs the native call when its turn comes (the files are read and the boxes drawn before). */
export type Gate = <T>(call: () => Promise<T>) => Promise<T>;
const now: Gate = (call) => call();

/**
 * Decodes the jobs' crops into a batch of `count` images, with `threads` OpenMP threads in one
 * call on libuv's pool, started through `gate`.
 */
export async function decodeJpegCrops(jobs: readonly CropJob[], spec: CropSpec, count: number, threads: number,
  output: { floats: true; mean: readonly number[]; std: readonly number[] }, gate?: Gate): Promise<JpegCrops<Float32Array>>;
export async function decodeJpegCrops(jobs: readonly CropJob[], spec: CropSpec, count: number, threads: number,
  output?: { floats: false }, gate?: Gate): Promise<JpegCrops<Uint8Array>>;
export async function decodeJpegCrops(jobs: readonly CropJob[], spec: CropSpec, count: number, threads: number,
  output: CropOutput = { floats: false }, gate: Gate = now): Promise<JpegCrops<Uint8Array | Float32Array>> {
  const others: CropJob[] = [], failed: { job: CropJob; error: CorruptFileError }[] = [];
  const fail = (job: CropJob, why: string) => failed.push({ job, error: new CorruptFileError(`cannot decode image ${job.file}: ${why}`) });
  const taken: CropJob[] = [], files: Uint8Array[] = [], boxes: number[] = [];
  let clipToImage = false;
  for (const job of jobs) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(job.file);
    } catch (err) {
      fail(job, (err as Error).message);
      continue;
    }
    const size = isJpeg(bytes) ? headerDimensions(bytes) : null;
    if (!size) {
      others.push(job);
      continue;
    }
    try {
      const crop = originalBox(spec, size[1], size[0], job.gen);
      clipToImage = crop.clipToImage;
      boxes.push(...crop.box);
    } catch (err) {
      fail(job, (err as Error).message);
      continue;
    }
    taken.push(job);
    files.push(bytes);
  }
  const [height, width] = cropOutputSize(spec);
  const { pixels, status, messages } = await gate(() => native.decodeJpegCropsAsync({
    files, boxes: Float64Array.from(boxes), clipToImage, slots: Int32Array.from(taken, (j) => j.slot),
    flips: Uint8Array.from(taken, (j) => (j.flip ? 1 : 0)), count, height, width, floats: output.floats,
    mean: output.floats ? output.mean : [0, 0, 0], std: output.floats ? output.std : [1, 1, 1], threads,
  }));
  for (const [k, job] of taken.entries()) {
    if (status[k] === STATUS_UNSUPPORTED) others.push(job);
    else if (status[k] !== STATUS_OK) fail(job, messages[k]!);
  }
  return { pixels, others, failed };
}
