// How many times a native binding ran while a test's code did: which path a layer took.
import { native } from '../../src/tensor/native.js';

type Bindings = Record<string, (...args: unknown[]) => unknown>;

/** fn's result and how many calls native[name] took while it ran (the binding itself still runs). */
export function countNativeCalls<T>(name: keyof typeof native, fn: () => T): [T, number] {
  const bindings = native as unknown as Bindings;
  const original = bindings[name];
  let calls = 0;
  bindings[name] = (...args) => (calls++, original(...args));
  try {
    return [fn(), calls];
  } finally {
    bindings[name] = original;
  }
}
