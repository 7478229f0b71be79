// Longer fuzz campaigns than CI's (test/fuzz/):
//   npm run build && node dist/bench/fuzz.js [inputs per target=1000000] [seed=2] [target ...]
// prints one JSON line per target with its counts; failing inputs are printed base64-encoded.
import { fuzz } from '../test/fuzz/harness.js';
import { targets } from '../test/fuzz/targets.js';

const inputs = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 2);
const names = process.argv.slice(4);
let failed = false;
for (const target of targets.filter((t) => names.length === 0 || names.includes(t.name))) {
  const t0 = performance.now();
  const r = await fuzz(target, inputs, seed);
  failed ||= r.crashes.length > 0 || r.hangs.length > 0 || r.peakRssMb >= 512;
  console.log(JSON.stringify({ ...r, seed, seconds: Math.round((performance.now() - t0) / 1000) }));
}
process.exitCode = failed ? 1 : 0;
