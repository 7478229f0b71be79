// The addon's binding table (native/bindings/*.cc) and the NativeAddon interface in
// src/tensor/native.ts describe the same functions: a binding added, renamed or removed on one
// side, given another number of arguments, or reading a parameter-object field native.ts does not
// declare (or not reading one it declares) fails here instead of as `undefined is not a function`
// or a TypeError at some later call. native.ts stays hand-written (its doc comments and
// interfaces are the library's face); this test is what keeps it equal to the table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { native } from '../../src/tensor/native.js';
import { repoRoot } from '../helpers/fixtures.js';
import { validCalls } from './binding-calls.js';

const source = readFileSync(`${repoRoot}src/tensor/native.ts`, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, '');
type Binding = (...a: unknown[]) => unknown;
const bindings = native as unknown as Record<string, Binding>;

/** The text between the bracket at `open` and its partner. */
function enclosed(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if ('([{<'.includes(text[i])) depth++;
    else if (')]}>'.includes(text[i]) && text[i - 1] !== '=') depth--;
    if (depth === 0) return text.slice(open + 1, i);
  }
  throw new Error(`unbalanced bracket at ${open}`);
}

/** Splits at commas (or semicolons) outside brackets. */
function splitTop(text: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < text.length; i++) {
    if ('([{<'.includes(text[i])) depth++;
    else if (')]}>'.includes(text[i]) && text[i - 1] !== '=') depth--;
    else if (depth === 0 && (text[i] === sep || (sep === ';' && text[i] === '\n'))) parts.push(text.slice(start, i)), start = i + 1;
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

interface Method { optional: boolean; params: { name: string; type: string }[] }

/** The methods of interface NativeAddon with their parameters; optional ones (`name?(`) exist only in some builds (MPI). */
function declaredMethods(): Map<string, Method> {
  const at = source.indexOf('export interface NativeAddon {');
  assert.ok(at >= 0, 'src/tensor/native.ts declares interface NativeAddon');
  const body = enclosed(source, source.indexOf('{', at));
  const methods = new Map<string, Method>();
  for (const m of body.matchAll(/^ {2}(\w+)(\??)\(/gm)) {
    const params = splitTop(enclosed(body, m.index! + m[0].length - 1), ',').map((p) => {
      const colon = p.indexOf(':');
      return { name: p.slice(0, colon).trim(), type: p.slice(colon + 1).trim() };
    });
    methods.set(m[1], { optional: m[2] === '?', params });
  }
  return methods;
}

/** The fields of an interface of native.ts, with those of the interfaces it extends; undefined for other types. */
function interfaceFields(name: string): { required: string[]; optional: string[] } | undefined {
  const head = new RegExp(`export interface ${name}(?: extends ([\\w, ]+))? \\{`).exec(source);
  if (!head) return undefined;
  const fields = { required: [] as string[], optional: [] as string[] };
  for (const parent of head[1]?.split(',').map((s) => s.trim()) ?? []) {
    const inherited = interfaceFields(parent)!;
    fields.required.push(...inherited.required);
    fields.optional.push(...inherited.optional);
  }
  for (const member of splitTop(enclosed(source, head.index + head[0].length - 1), ';')) {
    const m = /^(\w+)(\??):/.exec(member);
    assert.ok(m, `cannot read member '${member}' of ${name}`);
    (m[2] ? fields.optional : fields.required).push(m[1]);
  }
  return fields;
}

const methods = declaredMethods();

test('the addon exports exactly the functions native.ts declares', () => {
  const exported = Object.keys(native);
  for (const name of exported) assert.equal(typeof bindings[name], 'function', name);
  const required = [...methods].filter(([, m]) => !m.optional).map(([n]) => n);
  const optional = [...methods].filter(([, m]) => m.optional).map(([n]) => n);
  assert.ok(required.length > 40, `found only ${required.length} declarations`);
  assert.deepEqual(exported.filter((n) => !methods.has(n)), [], 'exported but not declared in native.ts');
  assert.deepEqual(required.filter((n) => !exported.includes(n)), [], 'declared in native.ts but not exported');
  // The optional ones come as a set: all of them in an MPI build, none without.
  const present = optional.filter((n) => exported.includes(n));
  assert.deepEqual(present, native.mpiInfo().available ? optional : [], 'optional bindings present');
});

test('every binding names itself in its errors', () => {
  for (const name of Object.keys(native)) {
    assert.throws(() => bindings[name](Symbol('bad'), Symbol('bad')), (err: Error) => err.message.startsWith(`${name}: `), name);
  }
});

test('every binding takes as many arguments as native.ts declares, and counts them first', () => {
  const tooMany = Array.from({ length: 20 }, () => Symbol('extra'));
  for (const name of Object.keys(native)) {
    const declared = methods.get(name)!.params.length;
    assert.throws(() => bindings[name](...tooMany), (err: Error) => err instanceof TypeError
      && err.message === `${name}: expected ${declared} arguments but received 20`, `${name} declares ${declared} parameters`);
  }
});

/** The fields a binding reads from each plain-object argument of a valid call. */
function fieldsRead(name: string, args: unknown[]): Map<number, Set<string>> {
  const read = new Map<number, Set<string>>();
  const wrapped = args.map((arg, i) => {
    if (typeof arg !== 'object' || arg === null || Array.isArray(arg) || ArrayBuffer.isView(arg)) return arg;
    const names = new Set<string>();
    read.set(i, names);
    return new Proxy(arg, { get: (target, key) => (typeof key === 'string' && names.add(key), Reflect.get(target, key)) });
  });
  bindings[name](...wrapped);
  return read;
}

test('every parameter object a binding reads has the fields native.ts declares for it', () => {
  let checked = 0;
  for (const [name, method] of methods) {
    if (!(name in native)) continue;
    const objects = method.params.map((p, i) => ({ ...p, i, fields: interfaceFields(p.type) })).filter((p) => p.fields);
    if (objects.length === 0) continue;
    const call = validCalls[name as keyof typeof validCalls];
    assert.ok(call, `${name} takes ${objects.map((o) => o.type).join(', ')}: add a valid call of it to test/native/binding-calls.ts`);
    const read = fieldsRead(name, call());
    for (const o of objects) {
      const got = [...(read.get(o.i) ?? [])];
      assert.deepEqual(got.filter((k) => !o.fields!.required.includes(k) && !o.fields!.optional.includes(k)), [],
        `${name} reads fields of ${o.name} that ${o.type} does not declare`);
      assert.deepEqual(o.fields!.required.filter((k) => !got.includes(k)), [], `${name} never reads these fields of ${o.type}`);
      checked++;
    }
  }
  assert.ok(checked >= 35, `checked only ${checked} parameter objects`);
});
