// JPEG crops decoded by the addon's libjpeg-turbo decoder (native/image), many files per call on
// libuv's pool: sharp costs a pipeline per image, and on 500×375 photos that overhead, not the
// decoding, was most of the loader's time. JS reads each file and its header, samples the box on
// the original exactly as the sharp path does (same generator draws), and the addon decodes only
// the box's blocks at the largest DCT scale that keeps it at least the output size, then resizes
// it with PIL's filter. Files it does not take (not JPEG, CMYK) are handed back for sharp.
import { readFileSync } from 'node:fs';
import { native } from '../tensor/native.js';
import type { Generator } from '../tensor/random.js';
import { cropOutputSize, originalBox, type CropSpec } from './crop-decode.js';
import { CorruptFileError } from './errors.js';
import { headerDimensions } from './image-size.js';

/** The addon's JPEG decoder ('libjpeg-turbo 2.1.5'), or null: then every file decodes with sharp. */
export const nativeJpegDecoder: string | null = native.jpegDecoder();

/** One image of a batch: its file, the slot of the batch block it fills, its crop's generator, whether it is mirrored. */
export interface CropJob {
  file: string;
  slot: number;
  gen: Generator;
  flip: boolean;
}

export interface JpegCropsOutcome {
  /** Jobs this decoder does not take (not a JPEG, CMYK, an unreadable header): decode them with sharp. */
  others: CropJob[];
  /** Jobs whose file could not be read or decoded. */
  failed: { job: CropJob; error: CorruptFileError }[];
}

const STATUS_OK = 0, STATUS_UNSUPPORTED = 1;

const isJpeg = (b: Uint8Array): boolean => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

/**
 * Decodes the jobs' crops (CHW, 3 channels) into out, slot k at k·3·height·width: uint8 levels, or
 * into a Float32Array ToTensor + Normalize's floats with `normalize`'s mean and std; with
 * `threads` OpenMP threads inside one call on libuv's pool.
 */
export async function decodeJpegCrops(jobs: readonly CropJob[], spec: CropSpec, out: Uint8Array | Float32Array, threads: number,
  normalize: { mean: readonly number[]; std: readonly number[] } = { mean: [0, 0, 0], std: [1, 1, 1] }): Promise<JpegCropsOutcome> {
  const outcome: JpegCropsOutcome = { others: [], failed: [] };
  const fail = (job: CropJob, why: string) => outcome.failed.push({ job, error: new CorruptFileError(`cannot decode image ${job.file}: ${why}`) });
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
      outcome.others.push(job);
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
  if (taken.length === 0) return outcome;
  const [height, width] = cropOutputSize(spec);
  const { status, messages } = await native.decodeJpegCropsAsync({
    files, boxes: Float64Array.from(boxes), clipToImage, slots: Int32Array.from(taken, (j) => j.slot),
    flips: Uint8Array.from(taken, (j) => (j.flip ? 1 : 0)), height, width, out, mean: normalize.mean, std: normalize.std, threads,
  });
  for (const [k, job] of taken.entries()) {
    if (status[k] === STATUS_UNSUPPORTED) outcome.others.push(job);
    else if (status[k] !== STATUS_OK) fail(job, messages[k]!);
  }
  return outcome;
}
