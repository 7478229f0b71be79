// Run on N ranks (mpirun; also correct on one): each rank takes its rows of one global batch
// through a --sync-bn BatchNorm2d and compares forward, backward and running statistics with
// BatchNorm over the whole batch, computed here too. Prints one JSON line of max errors per rank.
import { Tensor } from '../../../src/tensor/tensor.js';
import { manualSeed } from '../../../src/tensor/random.js';
import { BatchNorm2d } from '../../../src/nn/norm.js';
import { joinWorld } from '../../../src/dist/world.js';
import { convertSyncBatchNorm } from '../../../src/dist/sync-batchnorm.js';

const world = joinWorld();
const perRank = 3, channels = 4, shape = [perRank * world.size, channels, 3, 2];
const maxErr = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const rows = (t: Tensor) => t.data.slice(world.rank * (t.size / world.size), (world.rank + 1) * (t.size / world.size));
const errors = { y: 0, dx: 0, dweight: 0, dbias: 0, runningMean: 0, runningVar: 0, batches: 0 };

manualSeed(7);
const whole = new BatchNorm2d({ numFeatures: channels, momentum: null });
const mine = new BatchNorm2d({ numFeatures: channels, momentum: null });
whole.weight!.data.set(Tensor.rand([channels], { low: 0.5, high: 1.5 }).data);
whole.bias!.data.set(Tensor.randn([channels]).data);
mine.loadStateDict(whole.stateDict());
convertSyncBatchNorm(mine, world);
for (let step = 0; step < 2; step++) {
  const x = Tensor.randn(shape).mul(Tensor.scalar(2 + step)), dy = Tensor.randn(shape);
  const xAll = new Tensor(x.data.slice(), shape, true);
  const yAll = whole.call(xAll);
  yAll.backward(dy);
  const xMine = new Tensor(rows(x), [perRank, ...shape.slice(1)], true);
  const yMine = mine.call(xMine);
  yMine.backward(new Tensor(rows(dy), xMine.shape));
  // The parameters' gradients are per rank; their sum over ranks is the whole batch's.
  const dw = mine.weight!.grad!.data.slice(), db = mine.bias!.grad!.data.slice();
  world.allreduceSum(dw);
  world.allreduceSum(db);
  errors.y = Math.max(errors.y, maxErr(yMine.data, rows(yAll)));
  errors.dx = Math.max(errors.dx, maxErr(xMine.grad!.data, rows(xAll.grad!)));
  errors.dweight = Math.max(errors.dweight, maxErr(dw, whole.weight!.grad!.data));
  errors.dbias = Math.max(errors.dbias, maxErr(db, whole.bias!.grad!.data));
  for (const p of [...whole.parameters(), ...mine.parameters()]) p.grad = null;
}
errors.runningMean = maxErr(mine.runningMean!.data, whole.runningMean!.data);
errors.runningVar = maxErr(mine.runningVar!.data, whole.runningVar!.data);
errors.batches = Math.abs(mine.numBatchesTracked!.data[0] - whole.numBatchesTracked!.data[0]);
mine.eval();
whole.eval();
const probe = Tensor.randn([2, channels, 3, 2]);
const evalErr = maxErr(mine.call(probe).data, whole.call(probe).data);
console.log(JSON.stringify({ rank: world.rank, size: world.size, ...errors, eval: evalErr }));
world.finalize();
