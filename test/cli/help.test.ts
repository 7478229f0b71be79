// --help of every command shows every option's default, every option comes from a row
// (option-row.ts), and every command that computes takes the one --threads. The commands are
// read from the program itself, so a new command is covered the day it is added.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { isRowOption, rowOf } from '../../src/cli/row-options.js';
import { THREADS_ROW } from '../../src/cli/threads.js';
import { describeRow } from '../../src/option-row.js';

function allCommands(cmd: Command, path: string[] = []): [string, Command][] {
  return cmd.commands.flatMap((c) => [[[...path, c.name()].join(' '), c] as [string, Command], ...allCommands(c, [...path, c.name()])]);
}

const commands = allCommands(buildProgram());
// Commands that run no kernel: listings, downloads, and `bench`, which only groups its subcommands.
const NOT_COMPUTING = new Set(['models', 'datasets', 'datasets download', 'bench']);

test('the program has the commands the README documents, and any added since', () => {
  const names = commands.map(([n]) => n);
  for (const name of ['train', 'eval', 'predict', 'export', 'doctor', 'bench gemm', 'bench data', 'bench train', 'bench eval', 'models', 'summary', 'datasets', 'datasets download', 'gradcam', 'features']) {
    assert.ok(names.includes(name), `cnn ${name}`);
  }
});

test('every option of every command states its default (or that it is required) in --help', () => {
  const missing: string[] = [];
  for (const [name, cmd] of commands) {
    const help = cmd.createHelp();
    const text = cmd.helpInformation();
    for (const option of cmd.options) {
      if (option.long === '--help') continue;
      const description = help.optionDescription(option);
      if (!/\((?:.*; )?default: .+\)$|\(required\)$/.test(description)) missing.push(`cnn ${name} ${option.flags}: ${description}`);
      assert.ok(text.includes(option.flags), `cnn ${name} --help lists ${option.flags}`);
    }
  }
  assert.deepEqual(missing, []);
});

test('every option of every command comes from a row', () => {
  const handWritten = commands.flatMap(([name, cmd]) => cmd.options.filter((o) => !isRowOption(o)).map((o) => `cnn ${name} ${o.flags}`));
  assert.deepEqual(handWritten, []);
});

test("every option's value lands under its row's key (--allow-nonfinite as allowNonFinite)", () => {
  for (const [name, cmd] of allCommands(buildProgram())) {
    for (const option of cmd.options.filter(isRowOption)) {
      const row = rowOf(option)!;
      assert.equal(option.attributeName(), row.key, `cnn ${name} ${option.flags}`);
      if (option.isBoolean()) {
        cmd.parseOptions([option.long!]);
        assert.equal(cmd.opts()[row.key], true, `cnn ${name} ${option.long} sets ${row.key}`);
      }
    }
  }
});

test('every command that computes takes --threads, all from the one row', () => {
  const computing = commands.filter(([name]) => !NOT_COMPUTING.has(name));
  assert.ok(computing.length >= 11, `only ${computing.length} computing commands`);
  for (const [name, cmd] of computing) {
    const threads = cmd.options.find((o) => o.long === '--threads');
    assert.ok(threads, `cnn ${name} has no --threads`);
    assert.ok(isRowOption(threads), `cnn ${name} --threads is not from THREADS_ROW`);
    assert.equal(threads.flags, THREADS_ROW.flag, `cnn ${name} --threads`);
    assert.equal(threads.description, describeRow(THREADS_ROW), `cnn ${name} --threads`);
  }
  for (const name of NOT_COMPUTING) {
    assert.ok(commands.some(([n]) => n === name), `cnn ${name} still exists (else drop it from NOT_COMPUTING)`);
  }
});
