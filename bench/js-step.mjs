// The serial JavaScript of a training step (model calls, autograd tape, optimizer bookkeeping,
// step buffers) on its own: bench train's step (3×32×32, Adam, step buffers) with every compute
// kernel of the addon replaced by a no-op after two real steps (queries such as the path or
// buffer length a call takes stay real), so what is left is what the second thread can never
// share. Best and median of 200 steps per checkout, checkouts in turns.
// Usage: node bench/js-step.mjs CHECKOUT... [--model resnet18] [--batch 128] [--rounds 2]
import { spawnSync } from 'node:child_process';
import { trainingStep } from './training-step.mjs';

async function child(root, model, batch) {
  const { step, native: nat } = await trainingStep(root, { threads: 1, model, batch: Number(batch) });
  step(), step();
  // Calls whose result steers the JS (a path, a length, a flag) stay; the rest compute floats.
  const query = /Floats|Length|Algo|fmaPeak|firstNonFinite|^sum$|accuracy|smallNet|cpu|isa|threads|profile/i;
  for (const k of Object.keys(nat.native)) if (typeof nat.native[k] === 'function' && !query.test(k)) nat.native[k] = () => undefined;
  const ms = [];
  for (let s = 0; s < 200; s++) {
    const t0 = performance.now();
    step();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  console.log(JSON.stringify({ min: ms[0], median: ms[ms.length >> 1] }));
}

const args = process.argv.slice(2);
if (args[0] === '--child') await child(args[1], args[2], Number(args[3]));
else {
  const option = (name, fallback) => { const i = args.indexOf(name); return i < 0 ? fallback : args.splice(i, 2)[1]; };
  const model = option('--model', 'resnet18'), batch = option('--batch', '128'), rounds = Number(option('--rounds', '2'));
  for (let r = 0; r < rounds; r++) {
    for (const root of r % 2 ? [...args].reverse() : args) {
      const out = spawnSync(process.execPath, [new URL(import.meta.url).pathname, '--child', root, model, batch], { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`${root}: ${out.stderr}`);
      const m = JSON.parse(out.stdout.trim().split('\n').pop());
      console.log(`${root.padEnd(24)} ${model} b${batch}: JS per step best ${m.min.toFixed(3)} ms, median ${m.median.toFixed(3)} ms`);
    }
  }
}
