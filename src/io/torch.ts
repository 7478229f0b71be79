// PyTorch .pth/.pt files as torch.save has written them since 1.6: a ZIP archive
// <folder>/data.pkl (the pickled state dict), <folder>/data/<key> (one raw little-endian storage
// per key) and <folder>/version. The pickle runs on a restricted machine that knows only what a
// state dict needs (collections.OrderedDict, torch._utils' tensor and parameter rebuilders, the
// storage types); any other global is refused by name and nothing from the file is executed.
import { readFileSync, statSync } from 'node:fs';
import { Tensor } from '../tensor/tensor.js';
import { toFloat32, type DType } from './safetensors.js';
import { ZipArchive, ZipError, type ZipEntry } from './zip.js';
import { PickleDict, PickleError, unpickle, type PicklePolicy } from './pickle.js';

export class TorchFileError extends Error {}

export interface TorchStateDict {
  tensors: Map<string, Tensor>;
  /** The storage type each tensor had in the file (values are always float32 here). */
  dtypes: Map<string, DType>;
  /** Where the tensors were, when the file wraps them ('state_dict', 'model', ...); '' at the top. */
  foundUnder: string;
  /** Top-level entries that were not tensors (e.g. 'epoch'), left out. */
  ignored: string[];
}

/** torch.<Name>Storage → the element type of its bytes. */
const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'F32', HalfStorage: 'F16', BFloat16Storage: 'BF16', DoubleStorage: 'F64',
  LongStorage: 'I64', IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL',
};
const ELEMENT_BYTES: Record<DType, number> = { F32: 4, F64: 8, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** Containers that training scripts commonly save around a state dict. */
const WRAPPER_KEYS = ['state_dict', 'model_state_dict', 'model', 'net', 'weights'];

/** The pickle of a state dict is small (resnet152's is ~60 KB). */
const MAX_PICKLE_BYTES = 64 << 20;
/** Deflated storages may expand at most this much in total (torch stores them uncompressed). */
const MAX_INFLATION = 16;
const INFLATION_ALLOWANCE = 16 << 20;
/** One tensor's elements, well past any real layer, below what a Float32Array can hold. */
const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

const ALLOWED = 'collections.OrderedDict, torch._utils._rebuild_tensor_v2/_rebuild_parameter and torch.*Storage';

// Tokens for the globals the policy accepts; the machine only ever holds these, never a function.
const ORDERED_DICT = { global: 'collections.OrderedDict' };
const REBUILD_TENSOR = { global: 'torch._utils._rebuild_tensor_v2' };
const REBUILD_PARAMETER = { global: 'torch._utils._rebuild_parameter' };
const REBUILD_PARAMETER_WITH_STATE = { global: 'torch._utils._rebuild_parameter_with_state' };

class StorageType {
  constructor(readonly name: string, readonly dtype: DType) {}
}

class StorageRef {
  constructor(readonly key: string, readonly dtype: DType, readonly numel: number) {}
}

class TensorRef {
  constructor(readonly storage: StorageRef, readonly offset: number, readonly size: number[], readonly stride: number[]) {}
}

function count(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new TorchFileError(`${what} is ${typeof v === 'bigint' ? v : JSON.stringify(v)}, not a count`);
  return v;
}

function counts(v: unknown, what: string): number[] {
  if (!Array.isArray(v)) throw new TorchFileError(`${what} is not a tuple`);
  return v.map((d, i) => count(d, `${what}[${i}]`));
}

/** Checks that the view (offset, size, stride) stays inside its storage. */
function checkView(t: TensorRef, name: string): void {
  if (t.size.length !== t.stride.length) throw new TorchFileError(`tensor '${name}' has ${t.size.length} sizes but ${t.stride.length} strides`);
  let elements = 1, last = t.offset;
  for (let i = 0; i < t.size.length; i++) {
    elements *= t.size[i];
    if (elements > MAX_TENSOR_ELEMENTS) throw new TorchFileError(`tensor '${name}' has size [${t.size.join(', ')}], too large to load`);
    if (t.size[i] > 0) last += (t.size[i] - 1) * t.stride[i];
  }
  if (elements > 0 && (!Number.isSafeInteger(last) || last >= t.storage.numel)) {
    throw new TorchFileError(`tensor '${name}' reaches element ${last} of storage '${t.storage.key}', which holds ${t.storage.numel}`);
  }
}

/** The restricted policy: the few globals and calls a state dict is made of. */
function stateDictPolicy(): PicklePolicy {
  const storages = new Map<string, StorageRef>();
  return {
    global(module, name) {
      if (module === 'collections' && name === 'OrderedDict') return ORDERED_DICT;
      if (module === 'torch._utils' && name === '_rebuild_tensor_v2') return REBUILD_TENSOR;
      if (module === 'torch._utils' && name === '_rebuild_parameter') return REBUILD_PARAMETER;
      if (module === 'torch._utils' && name === '_rebuild_parameter_with_state') return REBUILD_PARAMETER_WITH_STATE;
      if (module === 'torch' && Object.hasOwn(STORAGE_DTYPES, name)) return new StorageType(name, STORAGE_DTYPES[name]);
      if (module === 'torch' && name.endsWith('Storage')) {
        throw new PickleError(`its tensors use torch.${name}, which cannot become float32 weights (supported: ${Object.keys(STORAGE_DTYPES).join(', ')})`);
      }
      throw new PickleError(`its pickle asks for ${module}.${name}, which a state dict never needs (allowed: ${ALLOWED}); refused, nothing from the file was run`);
    },
    persistentLoad(pid) {
      if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== 'storage') throw new PickleError('a persistent id is not a storage record');
      const [, type, key, , numel] = pid as unknown[];
      if (!(type instanceof StorageType)) throw new PickleError('a storage record has no storage type');
      if (typeof key !== 'string' || !/^[\w.-]{1,200}$/.test(key)) throw new PickleError('a storage record has a bad key');
      const n = count(numel, `storage '${key}' size`);
      const seen = storages.get(key);
      if (seen && (seen.dtype !== type.dtype || seen.numel !== n)) throw new PickleError(`storage '${key}' is declared twice with different types or sizes`);
      const ref = seen ?? new StorageRef(key, type.dtype, n);
      storages.set(key, ref);
      return ref;
    },
    call(fn, args) {
      if (fn === ORDERED_DICT) {
        const dict = new PickleDict('collections.OrderedDict');
        if (args.length === 0) return dict;
        throw new PickleError('OrderedDict is built with arguments, which torch.save never writes');
      }
      if (fn === REBUILD_TENSOR) {
        if (args.length !== 6 && args.length !== 7) throw new PickleError(`_rebuild_tensor_v2 takes 6 or 7 arguments, got ${args.length}`);
        const [storage, offset, size, stride] = args;
        if (!(storage instanceof StorageRef)) throw new PickleError('_rebuild_tensor_v2 is given something other than a storage');
        return new TensorRef(storage, count(offset, 'a storage offset'), counts(size, 'a tensor size'), counts(stride, 'a tensor stride'));
      }
      if (fn === REBUILD_PARAMETER || fn === REBUILD_PARAMETER_WITH_STATE) {
        if (!(args[0] instanceof TensorRef)) throw new PickleError(`${(fn as { global: string }).global} is given something other than a tensor`);
        return args[0];
      }
      throw new PickleError(`the pickle calls ${describeToken(fn)}, which a state dict never does; refused`);
    },
    newObject(cls, args) {
      if (cls === ORDERED_DICT && args.length === 0) return new PickleDict('collections.OrderedDict');
      throw new PickleError(`the pickle creates a ${describeToken(cls)}, which a state dict never does; refused`);
    },
    build(obj, state) {
      // torch.save keeps a state dict's _metadata (layer versions) as OrderedDict attributes.
      if (obj instanceof PickleDict && (state instanceof PickleDict || state === null)) return obj;
      throw new PickleError(`the pickle sets the state of a ${describeToken(obj)}, which a state dict never does; refused`);
    },
  };
}

function describeToken(v: unknown): string {
  if (v && typeof v === 'object' && 'global' in v) return String((v as { global: string }).global);
  if (v instanceof StorageType) return `torch.${v.name}`;
  if (v instanceof TensorRef) return 'tensor';
  if (v instanceof PickleDict) return v.kind;
  return v === null ? 'None' : typeof v;
}

/** The dict of tensors in the unpickled object: at the top, or under a common wrapper key. */
function findStateDict(root: unknown): { dict: PickleDict; foundUnder: string } {
  if (!(root instanceof PickleDict)) throw new TorchFileError(`it holds a ${describeToken(root)}, not a state dict`);
  const hasTensors = (d: PickleDict) => [...d.map.values()].some((v) => v instanceof TensorRef);
  if (hasTensors(root)) return { dict: root, foundUnder: '' };
  for (const k of WRAPPER_KEYS) {
    const inner = root.map.get(k);
    if (inner instanceof PickleDict && hasTensors(inner)) return { dict: inner, foundUnder: k };
  }
  const keys = [...root.map.keys()].slice(0, 8).map(String);
  throw new TorchFileError(`it holds no tensors at its top level nor under ${WRAPPER_KEYS.join('/')} (keys: ${keys.join(', ') || 'none'})`);
}

/** The archive's folder: torch names it after the file, any name is accepted. */
function archivePrefix(zip: ZipArchive): string {
  const pickles = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length === 1) return pickles[0].slice(0, -'data.pkl'.length);
  if (pickles.length > 1) throw new TorchFileError(`it holds ${pickles.length} data.pkl files`);
  const names = [...zip.entries.keys()];
  if (names.some((n) => /^[^/]+\/constants\.pkl$/.test(n) || /^[^/]+\/code\//.test(n))) {
    throw new TorchFileError('it is a TorchScript archive (torch.jit.save); save model.state_dict() with torch.save instead');
  }
  throw new TorchFileError('it is a ZIP archive without a <folder>/data.pkl, so not a PyTorch file');
}

/** Decodes a torch.save zip archive held in memory into float32 tensors. */
export function decodeTorchZip(buf: Buffer): TorchStateDict {
  const zip = ZipArchive.open(buf);
  const prefix = archivePrefix(zip);
  const version = zip.entries.get(`${prefix}version`) ?? zip.entries.get(`${prefix}.data/version`);
  if (version) {
    const v = Number(zip.read(version, 64).toString('latin1').trim());
    if (!Number.isInteger(v) || v < 1 || v > 10) throw new TorchFileError(`its format version is '${zip.read(version, 64).toString('latin1').trim()}', not one this reader knows`);
  }
  const byteorder = zip.entries.get(`${prefix}byteorder`);
  if (byteorder && zip.read(byteorder, 16).toString('latin1').trim() !== 'little') throw new TorchFileError('its tensors are big-endian, which this reader does not convert');

  const root = unpickle(zip.read(zip.entries.get(`${prefix}data.pkl`)!, MAX_PICKLE_BYTES), stateDictPolicy());
  const { dict, foundUnder } = findStateDict(root);

  const floats = new Map<string, Float32Array>();
  let inflateBudget = INFLATION_ALLOWANCE;
  for (const e of zip.entries.values()) if (e.method === 8) inflateBudget += MAX_INFLATION * e.compressedSize;
  const storageValues = (s: StorageRef): Float32Array => {
    const cached = floats.get(s.key);
    if (cached) return cached;
    const entry: ZipEntry | undefined = zip.entries.get(`${prefix}data/${s.key}`);
    if (!entry) throw new TorchFileError(`storage '${s.key}' is missing from the archive (${prefix}data/${s.key})`);
    const needed = s.numel * ELEMENT_BYTES[s.dtype];
    if (entry.size < needed) throw new TorchFileError(`storage '${s.key}' holds ${entry.size} bytes, but ${s.numel} ${s.dtype} elements need ${needed}`);
    const limit = entry.method === 8 ? Math.min(needed, inflateBudget) : needed;
    if (entry.size > limit) {
      throw new TorchFileError(`storage '${s.key}' declares ${entry.size} bytes from ${entry.compressedSize} compressed, more than its ${s.numel} elements need or the archive's size allows (a zip bomb?)`);
    }
    const bytes = zip.read(entry, limit);
    if (entry.method === 8) inflateBudget -= bytes.length;
    const values = toFloat32(bytes, s.numel, s.dtype);
    floats.set(s.key, values);
    return values;
  };

  const tensors = new Map<string, Tensor>();
  const dtypes = new Map<string, DType>();
  const ignored: string[] = [];
  for (const [k, v] of dict.map) {
    if (typeof k !== 'string') throw new TorchFileError(`a state-dict key is a ${typeof k}, not a name`);
    if (!(v instanceof TensorRef)) {
      ignored.push(k);
      continue;
    }
    checkView(v, k);
    tensors.set(k, new Tensor(gather(storageValues(v.storage), v), v.size));
    dtypes.set(k, v.storage.dtype);
  }
  const outside = foundUnder ? [...(root as PickleDict).map.keys()].filter((k) => k !== foundUnder).map(String) : [];
  return { tensors, dtypes, foundUnder, ignored: [...outside, ...ignored] };
}

/** The view's elements in row-major order (torch saves views of shared storages as they are). */
function gather(storage: Float32Array, t: TensorRef): Float32Array {
  const n = t.size.reduce((a, b) => a * b, 1);
  let contiguous = true;
  for (let i = t.size.length - 1, expect = 1; i >= 0; i--) {
    if (t.size[i] !== 1 && t.stride[i] !== expect) contiguous = false;
    expect *= t.size[i];
  }
  if (contiguous) return storage.slice(t.offset, t.offset + n);
  const out = new Float32Array(n);
  const index = new Array<number>(t.size.length).fill(0);
  for (let i = 0; i < n; i++) {
    let at = t.offset;
    for (let d = 0; d < index.length; d++) at += index[d] * t.stride[d];
    out[i] = storage[at];
    for (let d = index.length - 1; d >= 0; d--) {
      if (++index[d] < t.size[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

/** The first bytes of a pre-1.6 torch.save file: a pickled magic number (LONG1 0x1950a86a20f9469cfc6c). */
const LEGACY_MAGIC = Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);

/** Reads a PyTorch .pth/.pt state dict; every failure is one TorchFileError naming the file. */
export function loadTorchFile(path: string): TorchStateDict {
  let buf: Buffer;
  try {
    if (statSync(path).isDirectory()) throw new TorchFileError(`cannot read ${path}: it is a folder`);
    buf = readFileSync(path);
  } catch (err) {
    if (err instanceof TorchFileError) throw err;
    throw new TorchFileError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (buf.subarray(0, LEGACY_MAGIC.length).equals(LEGACY_MAGIC) || (buf.length > 2 && buf[0] === 0x80 && buf[1] <= 5)) {
    throw new TorchFileError(`${path} is a legacy (pre-1.6, non-zip) PyTorch file; re-save it in Python with torch.save(torch.load(f), 'new.pth'), which writes the zip format`);
  }
  try {
    return decodeTorchZip(buf);
  } catch (err) {
    if (err instanceof TorchFileError || err instanceof ZipError || err instanceof PickleError) throw new TorchFileError(`${path}: ${err.message}`);
    throw err;
  }
}
