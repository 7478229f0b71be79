// Run on N ranks: evaluates a checkpoint (argv[2]) on its test split, each rank its shard, sums
// all-reduced. Prints one JSON line per rank: loss, top-1, top-5, count and the confusion counts.
import { joinWorld } from '../../../src/dist/world.js';
import { DataParallel } from '../../../src/train/distributed.js';
import { evaluateCheckpoint } from '../../../src/train/evaluate.js';

const world = joinWorld();
const r = await evaluateCheckpoint(process.argv[2], { batchSize: 96 }, new DataParallel(world));
console.log(JSON.stringify({ rank: world.rank, loss: r.loss, accuracy: r.accuracy, top5: r.top5, count: r.count, confusion: r.confusion.counts }));
world.finalize();
