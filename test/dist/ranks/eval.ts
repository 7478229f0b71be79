// Run on N ranks: evaluates a checkpoint (argv[2]) on its test split, each rank its shard, sums
// all-reduced. Prints one JSON line per rank: loss, top-1, top-5, count and the confusion counts.
import { joinWorld } from '../../../src/dist/world.js';
import { DataParallel } from '../../../src/train/distributed.js';
import { evaluateCheckpoint } from '../../../src/train/evaluate.js';

// `node --test dist/test/` runs every file under test/ once on its own; without a checkpoint there is nothing to evaluate.
if (process.argv[2] === undefined) {
  console.log('usage: mpirun -np N node eval.js CHECKPOINT');
  process.exit(0);
}
const world = joinWorld();
const r = await evaluateCheckpoint(process.argv[2], { batchSize: 96 }, new DataParallel(world));
console.log(JSON.stringify({ rank: world.rank, loss: r.loss, accuracy: r.accuracy, top5: r.top5, count: r.count, confusion: r.confusion.counts }));
world.finalize();
