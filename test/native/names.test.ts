// The addon's binding table (native/bindings/*.cc) and the NativeAddon interface in
// src/tensor/native.ts name the same functions: a binding added, renamed or removed on one side
// only fails here instead of as `undefined is not a function` at some later call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { native } from '../../src/tensor/native.js';
import { repoRoot } from '../helpers/fixtures.js';

/** The methods of interface NativeAddon; optional ones (`name?(`) exist only in some builds (MPI). */
function declared(): { required: string[]; optional: string[] } {
  const source = readFileSync(`${repoRoot}src/tensor/native.ts`, 'utf8');
  const body = /export interface NativeAddon \{\n([\s\S]*?)\n\}\n/.exec(source);
  assert.ok(body, 'src/tensor/native.ts declares interface NativeAddon');
  const methods = [...body[1].matchAll(/^ {2}(\w+)(\??)\(/gm)];
  return {
    required: methods.filter((m) => m[2] === '').map((m) => m[1]),
    optional: methods.filter((m) => m[2] === '?').map((m) => m[1]),
  };
}

test('the addon exports exactly the functions native.ts declares', () => {
  const exported = Object.keys(native);
  for (const name of exported) assert.equal(typeof (native as unknown as Record<string, unknown>)[name], 'function', name);
  const { required, optional } = declared();
  assert.ok(required.length > 40, `found only ${required.length} declarations`);
  assert.deepEqual(exported.filter((n) => !required.includes(n) && !optional.includes(n)), [], 'exported but not declared in native.ts');
  assert.deepEqual(required.filter((n) => !exported.includes(n)), [], 'declared in native.ts but not exported');
  // The optional ones come as a set: all of them in an MPI build, none without.
  const present = optional.filter((n) => exported.includes(n));
  assert.deepEqual(present, native.mpiInfo().available ? optional : [], 'optional bindings present');
});

test('every binding names itself in its errors', () => {
  for (const name of Object.keys(native)) {
    const fn = (native as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
    assert.throws(() => fn(Symbol('bad'), Symbol('bad')), (err: Error) => err.message.startsWith(`${name}: `), name);
  }
});
