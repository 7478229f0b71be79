// kill -9 at random moments of `cnn train` runs in one folder, then checks what a crash may leave:
// every checkpoint loads, the next run removes the dead run's temp files and takes over its lock,
// and resuming continues the epochs. Every other kill is aimed inside the file writer: that run
// gets CNN_TEST_WRITE_PAUSE_MS (each write holds its temp file half written for a moment) and is
// killed when one of its temp files appears; a temp file left behind shows the kill landed there.
// Used by test/train/kill.test.ts (a few kills) and bench/kill-train.ts (long campaigns).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { repoRoot } from './fixtures.js';
import { seededRandom } from './seeded-random.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';

export interface KillLoopResult {
  kills: number;
  /** Kills aimed at the file writer (the others come at a random moment). */
  aimedAtWriter: number;
  /** Kills that left a temp file: the process died inside the file writer. */
  killedInWriter: number;
  /** Those by the file being written ("last.bin", "metrics.csv", …). */
  killedWriting: Record<string, number>;
  /** Kills after which last.bin existed (each such run was resumed by the next). */
  resumes: number;
  checkpointsLoaded: number;
  /** Epochs in metrics.csv after the final, uninterrupted run. */
  finalEpochs: number[];
}

const isTemp = (name: string) => /\.tmp-\d+-/.test(name);
/** The file a temp file stands for: `last.bin.tmp-123-host` → `last.bin`. */
const tempTarget = (name: string) => name.replace(/(\.tmp-\d+-[^/]*?)+$/, '');
/** How long an aimed-at run's writes pause halfway: ample for the poll below on a loaded machine. */
const WRITE_PAUSE_MS = 500;
const POLL_MS = 5;

function listFolder(out: string): string[] {
  try {
    return readdirSync(out);
  } catch {
    return [];
  }
}

function trainArgs(out: string, data: string[], epochs: number): string[] {
  const last = join(out, 'last.bin');
  return existsSync(last) ? ['train', '--resume', last, '--epochs', String(epochs)]
    : ['train', ...data.filter((a) => a !== '--quiet'), '--epochs', String(epochs), '--out', out, '--overwrite'];
}

function lockHolder(out: string): number | null {
  try {
    return (JSON.parse(readFileSync(join(out, '.lock'), 'utf8')) as { pid: number }).pid;
  } catch {
    return null;
  }
}

/**
 * `kills` runs, each killed with SIGKILL at a random moment of its first two epochs, then one run to completion.
 * Throws an AssertionError-like Error on the first broken promise.
 */
export async function killLoop(out: string, data: string[], kills: number, seed = 1): Promise<KillLoopResult> {
  const random = seededRandom(seed);
  const fail = (message: string) => new Error(`kill loop: ${message}`);
  let aimedAtWriter = 0, killedInWriter = 0, resumes = 0, checkpointsLoaded = 0;
  const killedWriting: Record<string, number> = {};
  let leftovers: string[] = [];
  // Random kill moments are spread over about two epochs after the run started training, whatever
  // the machine's speed: the epoch time is learnt from the (unpaused) runs that got that far, and
  // grown after one that did not.
  let epochMs = 1000;
  for (let k = 0; k < kills; k++) {
    const aimed = k % 2 === 1;
    const env = aimed ? { ...process.env, CNN_TEST_WRITE_PAUSE_MS: String(WRITE_PAUSE_MS) } : process.env;
    const child = spawn(process.execPath, [`${repoRoot}bin/cnn.js`, ...trainArgs(out, data, 1000), '--json'], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stderr = '', stdout = '';
    let startedAt = 0, sawEpoch = false;
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = once(child, 'exit');
    let timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    // An aimed kill comes at the 1st to 4th write after training started, so it hits metrics.csv,
    // last.bin and best.bin in turn; writes are counted as this run's temp files appearing.
    let poll: NodeJS.Timeout | undefined;
    const aimAtWrite = (nth: number) => {
      let seen: string[] = [];
      poll = setInterval(() => {
        const temps = listFolder(out).filter((n) => isTemp(n) && n.includes(`.tmp-${child.pid}-`));
        nth -= temps.filter((n) => !seen.includes(n)).length;
        seen = temps;
        if (nth <= 0) {
          clearInterval(poll);
          child.kill('SIGKILL');
        }
      }, POLL_MS);
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!startedAt && stdout.includes('"event":"start"')) {
        startedAt = performance.now();
        if (aimed) {
          aimedAtWriter++;
          aimAtWrite(1 + Math.floor(random() * 4));
        } else {
          clearTimeout(timer);
          timer = setTimeout(() => child.kill('SIGKILL'), random() * 2 * epochMs);
        }
      }
      if (!aimed && startedAt && !sawEpoch && stdout.includes('"event":"epoch"')) {
        sawEpoch = true;
        epochMs = (epochMs + (performance.now() - startedAt)) / 2;
      }
    });
    const [code] = await exited as [number | null];
    clearTimeout(timer);
    clearInterval(poll);
    if (!aimed && !sawEpoch) epochMs *= 1.5;
    if (code !== null) throw fail(`run ${k + 1} ended by itself with exit code ${code}: ${stderr.trim()}`);
    // The run had claimed the folder: the temp files of the run killed before it must be gone.
    if (lockHolder(out) === child.pid) {
      const survivors = leftovers.filter((f) => existsSync(join(out, f)));
      if (survivors.length) throw fail(`run ${k + 1} left the dead run's temp files ${survivors.join(', ')}`);
    }
    const names = listFolder(out);
    leftovers = names.filter(isTemp);
    const mine = leftovers.filter((n) => n.includes(`.tmp-${child.pid}-`));
    if (mine.length) {
      killedInWriter++;
      for (const target of new Set(mine.map(tempTarget))) killedWriting[target] = (killedWriting[target] ?? 0) + 1;
    }
    for (const name of names.filter((n) => n.endsWith('.bin') && !isTemp(n))) {
      try {
        loadCheckpoint(join(out, name));
      } catch (err) {
        throw fail(`after kill ${k + 1}, ${name} does not load: ${(err as Error).message}`);
      }
      checkpointsLoaded++;
    }
    if (names.includes('last.bin')) resumes++;
  }
  // One more run, to its end: it must continue where the last checkpoint stopped.
  const last = join(out, 'last.bin');
  const before = existsSync(last) ? (loadCheckpoint(last).training as { epoch: number }).epoch : 0;
  const final = spawn(process.execPath, [`${repoRoot}bin/cnn.js`, ...trainArgs(out, data, before + 1)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  final.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const [code] = await once(final, 'exit') as [number | null];
  if (code !== 0) throw fail(`the final run exited ${code}: ${stderr.trim()}`);
  const names = readdirSync(out);
  if (names.some(isTemp) || names.includes('.lock')) throw fail(`the final run left ${names.filter((n) => isTemp(n) || n === '.lock').join(', ')}`);
  const after = (loadCheckpoint(last).training as { epoch: number }).epoch;
  if (after !== before + 1) throw fail(`resuming from epoch ${before} ended at epoch ${after}`);
  const finalEpochs = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[0]));
  return { kills, aimedAtWriter, killedInWriter, killedWriting, resumes, checkpointsLoaded, finalEpochs };
}
