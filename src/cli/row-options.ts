// Commander options from rows (option-row.ts): every command declares its options as rows and
// adds them here, so a flag's parsing, check, default and --help text are written once.
import { Option, type Command } from 'commander';
import { checkRow, describeRow, type AnyOptionRow } from '../option-row.js';

/** --help headings of the row groups that have one (`cnn train`'s). */
const GROUPS: Record<string, string> = {
  run: 'Run:', optimizer: 'Optimizer:', scheduler: 'Learning-rate schedule:', augment: 'Augmentation (training only):',
  images: 'Your images (imagefolder, labels files):', sweep: 'Sweep:', output: 'Output:',
};

export interface RowOptionMode {
  /** Check each value as it is parsed (a run spec checks its values later, together). */
  checked: boolean;
  /** Give absent options the row's default (a resumed run keeps its own instead). */
  defaults: boolean;
  /** The row's users for --help ("sgd, adam"). */
  users?: readonly string[];
}

const fromRows = new WeakMap<Option, AnyOptionRow>();

/** Whether the option was made from a row, whose help already states its default. */
export function isRowOption(option: Option): boolean {
  return fromRows.has(option);
}

/** The row an option was made from. */
export function rowOf(option: Option): AnyOptionRow | undefined {
  return fromRows.get(option);
}

/** The commander option of a row: its flag, --help with the default, parser and check, default. */
export function rowOption(row: AnyOptionRow, mode: RowOptionMode): Option {
  const option = new Option(row.flag, describeRow(row, mode.users));
  if (GROUPS[row.group]) option.helpGroup(GROUPS[row.group]);
  if (row.required) option.makeOptionMandatory();
  const parse = row.parse;
  if (parse) {
    option.argParser(mode.checked ? (raw: string) => {
      const value = parse(raw);
      checkRow(row, value);
      return value;
    } : parse);
  }
  if (mode.defaults && row.default !== undefined) option.default(row.default);
  // The value lands under the row's key (commander alone would store --allow-nonfinite as allowNonfinite).
  option.attributeName = () => row.key;
  fromRows.set(option, row);
  return option;
}

/** Adds the rows to a command, each checked as parsed and defaulted. */
export function addRows(cmd: Command, rows: readonly AnyOptionRow[]): Command {
  for (const row of rows) cmd.addOption(rowOption(row, { checked: true, defaults: true }));
  return cmd;
}
