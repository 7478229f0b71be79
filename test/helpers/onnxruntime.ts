// Runs an exported ONNX model with onnxruntime (the onnxruntime-node dev dependency) on one of
// our tensors. Loaded at run time with the few types used here declared locally, so a checkout
// whose node_modules predate the dependency still builds; only these tests then ask for it.
import { Tensor } from '../../src/tensor/tensor.js';

interface OrtTensor {
  data: unknown;
  dims: readonly number[];
}

interface OrtSession {
  outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

interface Ort {
  InferenceSession: {
    create(model: Uint8Array, options: { intraOpNumThreads: number; interOpNumThreads: number; extra: { session: Record<string, string> } }): Promise<OrtSession>;
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
}

async function loadOrt(): Promise<Ort> {
  const name = 'onnxruntime-node';
  try {
    return (await import(name)) as Ort;
  } catch (err) {
    throw new Error(`${name} is not installed: run ONNXRUNTIME_NODE_INSTALL=skip npm ci (${(err as Error).message})`);
  }
}

/** Output 0 of the model for `input` (fed as 'input'), as our Tensor. */
export async function runOnnx(model: Uint8Array | readonly Uint8Array[], input: Tensor): Promise<Tensor> {
  const ort = await loadOrt();
  const bytes = model instanceof Uint8Array ? model : Buffer.concat(model);
  // No prepacking: a test runs each session once, and repacking VGG's 400 MB classifier would
  // double the time its session takes to load.
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, extra: { session: { disable_prepacking: '1' } } });
  try {
    const out = await session.run({ input: new ort.Tensor('float32', input.data, [...input.shape]) });
    const y = out[session.outputNames[0]];
    return new Tensor(Float32Array.from(y.data as Float32Array), y.dims.map(Number));
  } finally {
    await session.release();
  }
}
