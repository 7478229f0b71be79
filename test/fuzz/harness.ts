// Runs a parser over a seeded stream of mutated inputs and counts what must never happen: an
// error that is not one of the parser's own (a crash), one input taking over a second (a hang),
// resident memory over a bound. An input over a second is timed once more at once: a hang is one
// that is slow twice, since on a shared or niced machine a GC pause or a lost time slice is not.
import { mutate } from './mutate.js';
import { seededRandom } from '../helpers/seeded-random.js';

export interface FuzzTarget {
  name: string;
  /** Valid inputs to start from; mutated, never run as they are. */
  seeds: () => Promise<Uint8Array[]> | Uint8Array[];
  /** Tokens worth inserting (magic strings, JSON keys, option names). */
  dictionary?: string[];
  run: (input: Uint8Array) => unknown;
  /** The errors the parser is allowed to throw for bad input. */
  expected: (err: unknown) => boolean;
}

export interface FuzzReport {
  target: string;
  inputs: number;
  /** Inputs the parser accepted. */
  accepted: number;
  crashes: { input: string; error: string }[];
  hangs: { input: string; ms: number; rerunMs: number }[];
  /** Inputs over a second once but not when run again (the machine, not the parser). */
  slowOnce: number;
  slowestMs: number;
  peakRssMb: number;
}

export const HANG_MS = 1000;

export async function fuzz(target: FuzzTarget, inputs: number, seed = 1): Promise<FuzzReport> {
  const random = seededRandom(seed);
  // Plain copies: Buffer's slice() is a view, and mutating one would rewrite the seed itself.
  const corpus = (await target.seeds()).map((s) => Uint8Array.from(s));
  const dictionary = (target.dictionary ?? []).map((t) => new TextEncoder().encode(t));
  const report: FuzzReport = { target: target.name, inputs, accepted: 0, crashes: [], hangs: [], slowOnce: 0, slowestMs: 0, peakRssMb: 0 };
  const keep = (input: Uint8Array) => Buffer.from(input.subarray(0, 4096)).toString('base64');
  /** Milliseconds one run of `input` took; errors that are not the parser's own are recorded. */
  const runOnce = async (input: Uint8Array): Promise<number> => {
    const t0 = performance.now();
    try {
      await target.run(input);
      report.accepted++;
    } catch (err) {
      if (!target.expected(err) && report.crashes.length < 10) {
        report.crashes.push({ input: keep(input), error: err instanceof Error ? `${err.constructor.name}: ${err.message}\n${err.stack}` : String(err) });
      }
    }
    return performance.now() - t0;
  };
  for (let i = 0; i < inputs; i++) {
    const input = mutate(corpus, random, dictionary);
    const ms = await runOnce(input);
    if (ms > report.slowestMs) report.slowestMs = ms;
    if (ms > HANG_MS) {
      const accepted = report.accepted;
      const rerunMs = await runOnce(input);
      report.accepted = accepted;
      if (rerunMs <= HANG_MS) report.slowOnce++;
      else if (report.hangs.length < 10) report.hangs.push({ input: keep(input), ms, rerunMs });
    }
    // Back to the event loop now and then: zlib frees a failed stream's buffers in a nextTick,
    // which a chain of awaits alone never reaches (memory would grow as if it leaked).
    if (i % 100 === 99) await new Promise(setImmediate);
    if (i % 1000 === 0) report.peakRssMb = Math.max(report.peakRssMb, process.memoryUsage().rss / 2 ** 20);
  }
  report.peakRssMb = Math.max(report.peakRssMb, process.memoryUsage().rss / 2 ** 20);
  return report;
}
