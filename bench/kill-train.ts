// A kill -9 campaign against `cnn train` (see test/helpers/kill-loop.ts):
//   npm run build && node dist/bench/kill-train.js [kills=50] [seed=1]
// prints one JSON line with the counts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killLoop } from '../test/helpers/kill-loop.js';
import { writeTinyImageFolder } from '../test/helpers/tiny-dataset.js';

const kills = Number(process.argv[2] ?? 50);
const seed = Number(process.argv[3] ?? 1);
const dir = mkdtempSync(join(tmpdir(), 'cnn-kill-'));
try {
  const data = await writeTinyImageFolder(join(dir, 'images'));
  const result = await killLoop(join(dir, 'run'), data, kills, seed);
  console.log(JSON.stringify({ seed, ...result, finalEpochs: result.finalEpochs.length }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
