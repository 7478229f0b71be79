// Issue 10's proof line "no function in src/train or src/cli over 60 lines", checked by
// scripts/function-lengths.mjs; first the checker itself on sources whose answer is known.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../helpers/fixtures.js';

interface LongFunction { name: string; line: number; lines: number }
const checker = await import(pathToFileURL(`${repoRoot}scripts/function-lengths.mjs`).href) as {
  longFunctions: (source: string, max: number) => LongFunction[];
  report: (paths: string[], max?: number) => string[];
};

/** A body of n lines in all: header, n - 2 statements, closing brace. */
const body = (header: string, n: number, statement = '  x++;') => [header, ...Array(n - 2).fill(statement), '}'].join('\n');

test('the checker measures functions, methods and arrow functions from header to closing brace', () => {
  const source = [
    '// a } in a comment and "{" in strings and `${"{"}` templates do not count',
    body('export async function long(a: number): Promise<void> {', 61, "  const s = '}{'; x++;"),
    body('function fits() {', 60),
    'class C {',
    body('  method(a: string, b = { k: 1 }): number {', 62),
    '}',
    body('const arrow = async (x: number) => {', 70),
    body('if (ready) {', 80),
    body('const table = {', 90, '  k: 1,'),
  ].join('\n');
  const found = checker.longFunctions(source, 60);
  assert.deepEqual(found.map((f) => [f.line, f.lines]), [[2, 61], [124, 62], [187, 70]]);
  assert.match(found[0].name, /^export async function long/);
  assert.match(found[1].name, /^method\(/);
  assert.deepEqual(checker.longFunctions(source, 100), []);
});

test('a nested function counts in its parent too', () => {
  const inner = body('  items.forEach((item) => {', 40);
  const source = ['function outer() {', inner, inner, '}'].join('\n');
  assert.deepEqual(checker.longFunctions(source, 60).map((f) => f.lines), [82]);
});

test('no function in src/train or src/cli is over 60 lines', () => {
  assert.deepEqual(checker.report([`${repoRoot}src/train`, `${repoRoot}src/cli`], 60), []);
});
