// The bindings that took more than six positional arguments now take parameter objects (issue
// 10). Each is broken here one argument and one field at a time from a valid call: a missing
// field, a field or argument of the wrong type, a buffer one element short, or the old positional
// form must each throw a TypeError/RangeError naming the function and what is wrong, never crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native } from '../../src/tensor/native.js';
import { validCalls } from './binding-calls.js';

const converted = ['binary', 'softmaxForward', 'softmaxBackward', 'maxPoolBackward', 'adaptiveAvgPool2dForward',
  'adaptiveAvgPool2dBackward', 'adaptiveMaxPool2dForward', 'layerNormForward', 'layerNormBackward', 'groupNormForward',
  'groupNormBackward', 'channelScaleForward', 'channelScaleBackward', 'copyRows', 'adamStep'] as const;
// Fields that may be missing or null: the output or affine tensor is then skipped.
const nullable = new Set(['weight', 'bias', 'dx', 'dweight', 'dbias', 'ds', 'maxExpAvgSq']);

type Binding = (...a: unknown[]) => unknown;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);

function throwsNaming(fn: Binding, args: unknown[], kind: typeof TypeError | typeof RangeError, name: string, what: string): void {
  assert.throws(() => fn(...args), (err: Error) => err instanceof kind && err.message.startsWith(`${name}: `) && err.message.includes(what),
    `${name} with ${what} broken should throw a ${kind.name} naming it`);
}

/** Wrong values of the same kind of thing a valid value is: each must be refused with `kind`. */
function wrongValues(valid: unknown): [unknown, typeof TypeError | typeof RangeError][] {
  if (valid instanceof Float32Array) {
    return [[new Float64Array(valid.length), TypeError], [new Float32Array(valid.length - 1), RangeError], [Array.from(valid), TypeError]];
  }
  if (typeof valid === 'number') return [['1', TypeError], [{}, TypeError]];
  if (typeof valid === 'boolean') return [[1, TypeError]];
  if (Array.isArray(valid)) return [['2,3', TypeError], [[2, -3], RangeError]];
  return [];
}

for (const name of converted) {
  test(`${name} refuses missing fields, wrong types and short buffers`, () => {
    const fn = native[name] as unknown as Binding;
    const call = validCalls[name] as () => unknown[];
    fn(...call());
    const argCount = call().length;
    assert.throws(() => fn(...call(), 1), { name: 'TypeError', message: `${name}: expected ${argCount} arguments but received ${argCount + 1}` });
    call().forEach((arg, i) => {
      if (isObject(arg)) {
        for (const bad of [7, null, [1, 2], 'params', new Float32Array(4)]) {
          const args = call();
          args[i] = bad;
          assert.throws(() => fn(...args), (err: Error) => err instanceof TypeError && /expected an object for \w+$/.test(err.message), `${name} argument ${i}`);
        }
        for (const field of Object.keys(arg)) {
          const missing = call();
          delete (missing[i] as Record<string, unknown>)[field];
          if (nullable.has(field)) fn(...missing);
          else throwsNaming(fn, missing, TypeError, name, `.${field}`);
          for (const [bad, kind] of wrongValues(arg[field])) {
            const args = call();
            (args[i] as Record<string, unknown>)[field] = bad;
            throwsNaming(fn, args, kind, name, `.${field}`);
          }
        }
      } else if (i === argCount - 1) {
        const args = call();
        args[i] = 0;
        throwsNaming(fn, args, RangeError, name, 'threads');
      } else {
        for (const [bad, kind] of wrongValues(arg)) {
          const args = call();
          args[i] = bad;
          assert.throws(() => fn(...args), kind, `${name} argument ${i}`);
        }
      }
    });
  });
}
