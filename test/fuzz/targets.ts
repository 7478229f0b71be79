// One fuzz target per parser of untrusted bytes, each with valid seeds and the errors it may throw.
import { gzipSync } from 'node:zlib';
import { CommanderError } from 'commander';
import sharp from 'sharp';
import type { FuzzTarget } from './harness.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from '../../src/io/safetensors.js';
import { decodeImage, ImageError } from '../../src/io/image.js';
import { encodeIdx, parseIdx } from '../../src/data/idx.js';
import { CIFAR_IMAGE_BYTES, checkLabels, decodeCifarRecords } from '../../src/data/cifar-binary.js';
import { listTarGzBytes } from '../../src/data/tar.js';
import { DatasetError } from '../../src/data/errors.js';
import { CnnError } from '../../src/errors.js';
import { buildProgram } from '../../src/cli/main.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { makeTar } from '../helpers/tar.js';
import { readFileSync } from 'node:fs';
import { decodeTorchZip, TorchFileError } from '../../src/io/torch.js';
import { ZipError } from '../../src/io/zip.js';
import { PickleError } from '../../src/io/pickle.js';
import { repoRoot } from '../helpers/fixtures.js';

const bytesOf = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 17) & 255);

export const safetensorsTarget: FuzzTarget = {
  name: 'safetensors',
  seeds: () => [
    encodeSafetensors({ 'conv1.weight': Tensor.from([1, -2, 3.5, 0], [2, 2]), 'bn.num_batches_tracked': { tensor: Tensor.scalar(3), dtype: 'I64' } }, { format: 'cnn-checkpoint-1', model: '{"name":"lenet5"}' }),
    encodeSafetensors({ a: Tensor.ones([3]), b: Tensor.zeros([0]), c: Tensor.zeros([1, 2, 1]) }),
    encodeSafetensors({}),
  ],
  dictionary: ['"dtype"', '"F16"', '"BF16"', '"I64"', '"U8"', '"BOOL"', '"shape"', '"data_offsets"', '"__metadata__"', '[0,0]', '{"a":1}', '\\u0000', '\\"'],
  run: (input) => decodeSafetensors(Buffer.from(input.buffer, input.byteOffset, input.length), 'fuzz.safetensors'),
  expected: (err) => err instanceof SafetensorsError,
};

export const idxTarget: FuzzTarget = {
  name: 'idx',
  seeds: () => {
    const images = encodeIdx([3, 4, 5], bytesOf(60, 1));
    const labels = encodeIdx([7], bytesOf(7, 2));
    return [images, labels, gzipSync(images), gzipSync(labels)];
  },
  run: (input) => parseIdx(input, 'fuzz-idx'),
  expected: (err) => err instanceof DatasetError,
};

export const cifarTarget: FuzzTarget = {
  name: 'cifar-binary',
  seeds: () => [1, 2].map((records) => {
    const out = bytesOf(records * (1 + CIFAR_IMAGE_BYTES), records);
    for (let r = 0; r < records; r++) out[r * (1 + CIFAR_IMAGE_BYTES)] = r % 10;
    return out;
  }),
  run: (input) => {
    const records = decodeCifarRecords([{ file: 'fuzz_batch.bin', bytes: input }], 1);
    checkLabels(records.labels[0]!, 10, 'fuzz_batch.bin');
  },
  expected: (err) => err instanceof DatasetError,
};

const tarSeeds = () => [
  makeTar([{ name: 'top/', type: '5' }, { name: 'top/a.bin', data: bytesOf(700, 3) }, { name: 'top/b.txt', data: 'hello\n' }]),
  makeTar([{ name: 'x'.repeat(99), data: 'long' }]),
];

/** Tar structure mutated, then gzipped: reaches the tar reader behind a valid gzip stream. */
export const tarTarget: FuzzTarget = {
  name: 'tar',
  seeds: tarSeeds,
  dictionary: ['ustar\u000000', 'ustar  \u0000', 'path=', 'size=', '30 size=99999999999\n'],
  run: (input) => listTarGzBytes(gzipSync(input), 'fuzz.tar.gz'),
  expected: (err) => err instanceof DatasetError,
};

/** gzip bytes mutated: the stream's header, deflate blocks and trailer. */
export const gzipTarget: FuzzTarget = {
  name: 'gzip',
  seeds: () => tarSeeds().map((t) => gzipSync(t)),
  run: (input) => listTarGzBytes(input, 'fuzz.tar.gz'),
  expected: (err) => err instanceof DatasetError,
};

export const imageTarget: FuzzTarget = {
  name: 'image',
  seeds: async () => {
    const raw = sharp(Buffer.from(bytesOf(6 * 5 * 3, 4)), { raw: { width: 6, height: 5, channels: 3 } });
    return [
      await raw.clone().png().toBuffer(),
      await raw.clone().jpeg().toBuffer(),
      await raw.clone().webp().toBuffer(),
      await raw.clone().png({ palette: true }).toBuffer(),
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="6" height="5"><rect width="6" height="5"/></svg>'),
    ];
  },
  dictionary: ['IHDR', 'IDAT', 'IEND', 'VP8 ', 'RIFF', 'WEBP', '\u00ff\u00d8\u00ff', 'GIF89a'],
  run: (input) => decodeImage(input, 'fuzz.png', { maxPixels: 1 << 20 }),
  expected: (err) => err instanceof ImageError,
};

/** Stops a command before its action: the fuzzer tests the parsing of options, not training. */
class ParsedOnly extends Error {}

export const optionsTarget: FuzzTarget = {
  name: 'cli-options',
  seeds: () => [
    'train\0--lr\x000.1\0--epochs\x003\0--batch-size\x0064',
    'train\0--optimizer\0sgd\0--momentum\x000.9\0--scheduler\0onecycle\0--div-factor\x0025\0--color-jitter\x000.1,0.2,0.3,0.1',
    'train\0--scheduler\0multistep\0--milestones\x0030,60\0--threads\x002\0--random-crop\x004\0--hflip\x000.5',
    'train\0--auto-augment\0rand-m9-n2-mstd0.5\0--augment\0basic',
    'eval\0ck.bin\0--batch-size\x00128\0--split\0test',
    'predict\0ck.bin\0a.png\0--top-k\x005',
    'gradcam\0a.png\0--alpha\x000.5\0--max-pixels\x001000',
  ].map((s) => new TextEncoder().encode(s)),
  dictionary: ['\0--lr\0', '\0--epochs\0', '\0--threads\0', '\0--image-size\0', '\0--num-classes\0', '\0--rotation\0', '\0--betas\0',
    '\0--auto-augment\0', '-mstd', '-m1',
    '\0--max-lr\0', '\0--pct-start\0', '\0--top-k\0', '\0--help', '\0-V', '\0--', '\0NaN', '\0-1', '\x001e9', '\0Infinity', '\0--no-such'],
  run: async (input) => {
    const argv = new TextDecoder().decode(input).split('\0');
    try {
      await parsingProgram().parseAsync(['node', 'cnn', ...argv]);
    } catch (err) {
      if (!(err instanceof ParsedOnly)) throw err;
    }
  },
  // Bad options are CnnErrors with exit code 2 (one line `cnn: …`), or commander's own usage errors.
  expected: (err) => err instanceof CommanderError || (err instanceof CnnError && err.exitCode === 2),
};

let program: ReturnType<typeof buildProgram> | undefined;

/** Built once: commander resets option values at each parse (14.x), and building costs more than parsing. */
function parsingProgram(): ReturnType<typeof buildProgram> {
  if (!program) {
    program = buildProgram({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
    for (const command of program.commands) {
      command.hook('preAction', () => {
        throw new ParsedOnly();
      });
    }
  }
  return program;
}

// torch.save zip archives: the ZIP reader, the restricted unpickler and the storage views behind them.
export const torchTarget: FuzzTarget = {
  name: 'pth',
  seeds: () => ['small.pth', 'small_bf16.pth'].map((f) => new Uint8Array(readFileSync(`${repoRoot}test/fixtures/torch/${f}`))),
  dictionary: ['PK\x03\x04', 'PK\x01\x02', 'PK\x05\x06', 'archive/data.pkl', 'archive/data/0', '\x80\x02', 'ctorch._utils\n_rebuild_tensor_v2\n', 'cposix\nsystem\n', 'q\x00', 'R', '.'],
  run: (input) => decodeTorchZip(Buffer.from(input.buffer, input.byteOffset, input.length)),
  expected: (err) => err instanceof TorchFileError || err instanceof ZipError || err instanceof PickleError,
};

export const targets = [safetensorsTarget, idxTarget, cifarTarget, tarTarget, gzipTarget, imageTarget, optionsTarget, torchTarget];
