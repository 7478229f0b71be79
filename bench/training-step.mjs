// bench train's step (3×32×32 input, Adam over flat storage, step buffers) built from a built
// checkout's dist/, for benches that time two checkouts' steps in turns.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** { step, native }: one training step of `model` at `batch` on `threads`, and that checkout's native module. */
export async function trainingStep(root, { threads, model, batch }) {
  const load = (p) => import(pathToFileURL(resolve(root, 'dist/src', p)).href);
  const { Tensor } = await load('tensor/tensor.js');
  const { Generator } = await load('tensor/random.js');
  const native = await load('tensor/native.js');
  const { crossEntropy } = await load('tensor/loss.js');
  const { buildModel } = await load('models/registry.js');
  const { Adam } = await load('optim/index.js');
  const { StepBuffers } = await load('tensor/storage.js');
  native.setThreads(threads);
  const net = buildModel(model, { numClasses: 10, inChannels: 3 });
  net.train();
  const g = new Generator(0);
  const x = Tensor.randn([batch, 3, 32, 32], { generator: g });
  const y = Int32Array.from({ length: batch }, () => g.randint(10));
  const optimizer = new Adam(net.parameters(), { lr: 1e-3 }).useFlatStorage();
  const buffers = new StepBuffers();
  const step = () => {
    buffers.begin();
    const loss = crossEntropy(net.call(x), y);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    buffers.end();
  };
  return { step, native };
}
