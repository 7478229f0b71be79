// Run on N ranks: ResNet-18 (BatchNorm per rank, as DDP) takes one data-parallel step's backward
// on this rank's rows of a global batch; its averaged gradients must equal the mean of the
// single-process gradients of every shard, computed here too. Prints the max error per rank.
import { Tensor } from '../../../src/tensor/tensor.js';
import { manualSeed } from '../../../src/tensor/random.js';
import { setThreads } from '../../../src/tensor/native.js';
import { crossEntropy } from '../../../src/tensor/loss.js';
import { buildModel } from '../../../src/models/registry.js';
import { joinWorld } from '../../../src/dist/world.js';
import { DataParallel } from '../../../src/train/distributed.js';

const world = joinWorld();
setThreads(1);
const perRank = 4;
manualSeed(3);
const build = () => buildModel('resnet18', { numClasses: 10, stem: 'cifar' }).train();
const reference = build(), mine = build();
mine.loadStateDict(reference.stateDict());
const x = Tensor.randn([perRank * world.size, 3, 16, 16]);
const y = Int32Array.from({ length: perRank * world.size }, (_, i) => (i * 7) % 10);
const shard = (r: number) => ({
  x: new Tensor(x.data.slice(r * perRank * 768, (r + 1) * perRank * 768), [perRank, 3, 16, 16]),
  y: y.slice(r * perRank, (r + 1) * perRank),
});
// The reference: the mean over shards of a single-process gradient on each.
const expected = reference.parameters().map((p) => new Float64Array(p.size));
for (let r = 0; r < world.size; r++) {
  const s = shard(r);
  for (const p of reference.parameters()) p.grad = null;
  crossEntropy(reference.call(s.x), s.y).backward();
  reference.parameters().forEach((p, i) => p.grad!.data.forEach((g, k) => { expected[i][k] += g / world.size; }));
}
const dp = new DataParallel(world);
dp.attach(mine, mine.parameters(), false);
const s = shard(world.rank);
crossEntropy(mine.call(s.x), s.y).backward();
dp.averageGradients();
let maxErr = 0, maxGrad = 0;
mine.parameters().forEach((p, i) => p.grad!.data.forEach((g, k) => {
  maxErr = Math.max(maxErr, Math.abs(g - expected[i][k]));
  maxGrad = Math.max(maxGrad, Math.abs(expected[i][k]));
}));
console.log(JSON.stringify({ rank: world.rank, size: world.size, maxErr, maxGrad, params: mine.parameters().length }));
world.finalize();
