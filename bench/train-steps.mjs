// Training-step milliseconds of two built checkouts (e.g. /work/base and this one), each step
// timed on its own: bench train's step (resnet18 3×32×32 b128, Adam, step buffers), one process
// per checkout and thread count in turns, ROUNDS times. Prints per side and thread count the
// fastest step's wall ms, the median step's, and the fastest step's process CPU ms. On a shared
// machine the fastest steps are the ones the neighbours left alone, where a median over whole
// runs moves with them; CPU ms (1 thread) counts this process's work wherever it ran.
// Usage: node bench/train-steps.mjs BASE NEW [threads,...=1,2] [rounds=3] [steps=12] [model=resnet18] [batch=128]
import { spawnSync } from 'node:child_process';
import { trainingStep } from './training-step.mjs';

async function child(root, threads, steps, model, batch) {
  const { step } = await trainingStep(root, { threads, model, batch });
  const walls = [], cpus = [];
  for (let s = 0; s < steps + 2; s++) {
    const t0 = performance.now(), c0 = process.cpuUsage();
    step();
    const c = process.cpuUsage(c0);
    if (s >= 2) walls.push(performance.now() - t0), cpus.push((c.user + c.system) / 1000);
  }
  const sorted = [...walls].sort((a, b) => a - b);
  console.log(JSON.stringify({ min: sorted[0], median: sorted[sorted.length >> 1], cpu: Math.min(...cpus) }));
}

function parent([base, next, threadList = '1,2', rounds = '3', steps = '12', model = 'resnet18', batch = '128']) {
  const roots = { base, new: next };
  const best = {};
  for (let r = 0; r < Number(rounds); r++) {
    for (const t of threadList.split(',').map(Number)) {
      for (const side of r % 2 ? ['new', 'base'] : ['base', 'new']) {
        const out = spawnSync(process.execPath, [new URL(import.meta.url).pathname, '--child', roots[side], String(t), steps, model, batch],
          { encoding: 'utf8' });
        if (out.status !== 0) throw new Error(`${side} t${t}: ${out.stderr}`);
        const m = JSON.parse(out.stdout.trim().split('\n').pop());
        const key = `${side} t${t}`;
        const b = (best[key] ??= { min: Infinity, median: Infinity, cpu: Infinity });
        for (const k of Object.keys(b)) b[k] = Math.min(b[k], m[k]);
        console.log(`round ${r + 1} ${key.padEnd(9)} min ${m.min.toFixed(1)}  median ${m.median.toFixed(1)}  cpu ${m.cpu.toFixed(1)} ms`);
      }
    }
  }
  console.log('best of rounds:');
  for (const [key, b] of Object.entries(best)) {
    console.log(`${key.padEnd(9)} min ${b.min.toFixed(1)}  median ${b.median.toFixed(1)}  cpu ${b.cpu.toFixed(1)} ms`);
  }
}

const args = process.argv.slice(2);
if (args[0] === '--child') await child(args[1], Number(args[2]), Number(args[3]), args[4], Number(args[5]));
else parent(args);
