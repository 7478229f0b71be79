// --help of every command shows every option's default, and every command that computes takes --threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';

function allCommands(cmd: Command, path: string[] = []): [string, Command][] {
  return cmd.commands.flatMap((c) => [[[...path, c.name()].join(' '), c] as [string, Command], ...allCommands(c, [...path, c.name()])]);
}

const commands = allCommands(buildProgram());

test('every option of every command states its default in --help (required ones excepted)', () => {
  const missing: string[] = [];
  for (const [name, cmd] of commands) {
    const help = cmd.createHelp();
    for (const option of cmd.options) {
      if (option.mandatory || option.long === '--help') continue;
      if (!/default/.test(help.optionDescription(option))) missing.push(`cnn ${name} ${option.flags}`);
    }
  }
  assert.deepEqual(missing, []);
});

test('every command that computes takes --threads', () => {
  const computing = ['train', 'eval', 'predict', 'gradcam', 'features', 'summary', 'doctor', 'bench gemm', 'bench data', 'bench train', 'bench eval'];
  for (const name of computing) {
    const cmd = commands.find(([n]) => n === name)?.[1];
    assert.ok(cmd, name);
    assert.ok(cmd.options.some((o) => o.long === '--threads'), `cnn ${name} has no --threads`);
  }
});
