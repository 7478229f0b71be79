// One entry point for weights from outside a run: a cnn checkpoint, a plain safetensors state
// dict (what safetensors.torch.save_file(model.state_dict()) writes; F16/BF16 too) or a PyTorch
// .pth/.pt file, told apart by their first bytes rather than their names.
import { closeSync, openSync, readSync } from 'node:fs';
import type { Tensor } from '../tensor/tensor.js';
import { loadSafetensors, SafetensorsError, type DType } from './safetensors.js';
import { loadTorchFile, TorchFileError } from './torch.js';

export class WeightsError extends Error {}

export type WeightsFormat = 'cnn-checkpoint' | 'safetensors' | 'pytorch';

export interface WeightsFile {
  format: WeightsFormat;
  /** The state dict, torchvision's names, as float32 (a checkpoint's optimizer state left out). */
  tensors: Map<string, Tensor>;
  /** Each tensor's type in the file. */
  dtypes: Map<string, DType>;
  /** A safetensors file's __metadata__ (a cnn checkpoint's model, dataset and training facts). */
  metadata: Record<string, string>;
  /** Where a .pth file kept its tensors when it wraps them ('state_dict', 'model', ...), else ''. */
  foundUnder: string;
}

/** cnn checkpoints mark themselves so in __metadata__.format and keep optimizer state under this prefix. */
const CHECKPOINT_FORMAT_PREFIX = 'cnn-checkpoint';
const OPTIMIZER_PREFIX = 'optimizer.';

function firstBytes(path: string, n: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new WeightsError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const out = Buffer.alloc(n);
    let got: number;
    try {
      got = readSync(fd, out, 0, n, 0);
    } catch (err) {
      throw new WeightsError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return out.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** What kind of weights file `path` holds, from its first bytes. */
export function sniffWeights(head: Buffer): 'zip' | 'pickle' | 'safetensors' | null {
  if (head.length >= 4 && head.readUInt32LE(0) === 0x04034b50) return 'zip';
  if (head.length >= 2 && head[0] === 0x80 && head[1] <= 5) return 'pickle';
  if (head.length >= 9 && head.readBigUInt64LE(0) > 1n && head[8] === 0x7b) return 'safetensors';
  return null;
}

/** Reads weights for --init / loadStateDict; every failure is one WeightsError naming the file. */
export function loadWeights(path: string): WeightsFile {
  const kind = sniffWeights(firstBytes(path, 9));
  try {
    if (kind === 'zip' || kind === 'pickle') {
      const t = loadTorchFile(path);
      return { format: 'pytorch', tensors: t.tensors, dtypes: t.dtypes, metadata: {}, foundUnder: t.foundUnder };
    }
    if (kind === 'safetensors') {
      const f = loadSafetensors(path);
      if (!f.metadata.format?.startsWith(CHECKPOINT_FORMAT_PREFIX)) return { format: 'safetensors', ...f, foundUnder: '' };
      const keep = (k: string) => !k.startsWith(OPTIMIZER_PREFIX);
      return {
        format: 'cnn-checkpoint',
        tensors: new Map([...f.tensors].filter(([k]) => keep(k))),
        dtypes: new Map([...f.dtypes].filter(([k]) => keep(k))),
        metadata: f.metadata,
        foundUnder: '',
      };
    }
  } catch (err) {
    if (err instanceof TorchFileError || err instanceof SafetensorsError) throw new WeightsError(err.message);
    throw err;
  }
  throw new WeightsError(`${path} is neither a safetensors file nor a PyTorch .pth/.pt (zip) file`);
}
